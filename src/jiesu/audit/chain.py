"""Tamper evidence for the case event log: one hash chain per case.

Each case_event row carries `seq` (1, 2, … within its case) and `chain_hash` =
sha256(previous chain_hash of the same case ‖ canonical JSON of the row). A per-case chain
needs no global lock: concurrent actions on one case are already serialised by the case's
optimistic version check, so two writers can never both extend the same head (the loser's
transaction, event included, is rolled back), and the unique (case_id, seq) index refuses a
fork at the database level too.

The format is frozen as version 1: changing the fields or their encoding needs a new version
tag in GENESIS, or every existing chain would read as broken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "jiesu-case-event-chain-v1"
FIELDS = (
    "case_id",
    "seq",
    "at",
    "actor",
    "role",
    "unit_code",
    "action",
    "from_status",
    "to_status",
    "reason",
    "payload",
)


def _stamp(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC when read without the ORM type
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


# One encoder built once: json.dumps with these options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """True when JSON hands value back as it is (str keys; exact JSON types), so the round
    trip in canonical() would be the identity and can be skipped. Checked by exact type:
    a subclass (an enum, say) might encode otherwise, so it takes the round trip."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return kind in _SCALARS


def canonical(row: Mapping[str, Any]) -> bytes:
    """The row as the hash sees it: fixed field set, sorted keys, UTC microsecond stamps.

    The payload is round-tripped through JSON first (unless it is plain already) so that what
    Python held before the insert (tuples, int keys) and what JSON/JSONB returns afterwards
    encode the same way."""
    payload = row["payload"] or {}
    if not _plain(payload):
        payload = json.loads(json.dumps(payload))
    doc = {f: row[f] for f in FIELDS}
    doc["at"] = _stamp(row["at"])
    doc["payload"] = payload
    return _ENCODE(doc).encode()


def link(prev_hash: str | None, row: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update((prev_hash or GENESIS).encode())
    digest.update(b"\n")
    digest.update(canonical(row))
    return digest.hexdigest()
