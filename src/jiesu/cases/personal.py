"""Crypto-shredding of the free text in case events (docs/security.md, "Retention").

An event row is hashed into its case's chain as it is stored (audit/chain.py) and may never
change, yet its free text — the unit's reply, a contact or callback note, a reason — is personal
data that must go when the retention period ends (北京市接诉即办工作条例 on citizens' personal
information). So that text is stored encrypted (AES-256-GCM) under a data key of its own case
(table case_key), the chain hashes the ciphertext, and retention deletes the key: the rows and
the chain stay intact, the text can never be read again. `jiesu audit verify` needs no key.

What is sealed, the one list: the event's `reason` and the payload fields in SEALED_FIELDS,
whenever they are non-empty strings. Everything else in a payload (units, statuses, due times,
callback answers, the register event's channel) is a fact statistics need and names no one.
Every reader of event rows takes them through `open_event`; a field whose key is gone reads as
SHREDDED.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from jiesu.cases.models import CaseKey

# Payload fields that carry people's words: answer/reply/task reply texts, contact and callback
# notes, a return's evidence, an exclusion's requested reason (cases/effects.py writes them).
SEALED_FIELDS = frozenset({"text", "note", "evidence", "requested_reason"})
SHREDDED = "（已按保存期限删除）"
PREFIX = "sealed:v1:"
_NONCE = 12
# Keys created in this transaction but maybe not flushed yet (sessions run without autoflush).
_KEYS = "jiesu.case_keys"


@event.listens_for(Session, "after_transaction_end")
def _forget_keys(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEYS, None)


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _aad(case_id: int, name: str) -> bytes:
    # Bound to its case and field: a ciphertext copied into another event does not open.
    return f"{case_id}:{name}".encode()


def seal_value(key: bytes, case_id: int, name: str, value: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), _aad(case_id, name))
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def open_value(key: bytes | None, case_id: int, name: str, value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return value
    if key is None:
        return SHREDDED
    try:
        raw = base64.b64decode(value[len(PREFIX) :], validate=True)
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(case_id, name)).decode()
    except (InvalidTag, ValueError):
        return SHREDDED


def needs_key(reason: str, payload: Mapping[str, Any] | None) -> bool:
    if reason:
        return True
    return payload is not None and any(
        isinstance(payload.get(f), str) and payload.get(f) for f in SEALED_FIELDS
    )


def seal_fields(
    key: bytes, case_id: int, reason: str, payload: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    sealed = dict(payload or {})
    for name in SEALED_FIELDS & sealed.keys():
        if isinstance(sealed[name], str) and sealed[name]:
            sealed[name] = seal_value(key, case_id, name, sealed[name])
    return (seal_value(key, case_id, "reason", reason) if reason else ""), sealed


def open_event(
    keys: Mapping[int, bytes], case_id: int, reason: str, payload: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """An event's reason and payload as people wrote them (SHREDDED where the key is gone)."""
    key = keys.get(case_id)
    opened = {n: open_value(key, case_id, n, v) for n, v in (payload or {}).items()}
    return open_value(key, case_id, "reason", reason), opened


def keys_for(session: Session, case_ids: Iterable[int]) -> dict[int, bytes]:
    ids = set(case_ids)
    pending: dict[int, bytes] = session.info.get(_KEYS, {})
    found = {i: pending[i] for i in ids & pending.keys()}
    rest = ids - found.keys()
    if rest:
        found.update(
            (case_id, key)
            for case_id, key in session.execute(
                select(CaseKey.case_id, CaseKey.key).where(CaseKey.case_id.in_(rest))
            )
        )
    return found


def _key(session: Session, case_id: int) -> bytes:
    known = keys_for(session, (case_id,))
    if case_id in known:
        return known[case_id]
    key = new_key()
    session.add(CaseKey(case_id=case_id, key=key))
    session.info.setdefault(_KEYS, {})[case_id] = key
    return key


def seal_event(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    """The event row (as append_event takes it) with its free text sealed under its case's
    key, created on first need. An event with no free text costs nothing: no key is read."""
    if not needs_key(row["reason"], row["payload"]):
        return row
    reason, payload = seal_fields(
        _key(session, row["case_id"]), row["case_id"], row["reason"], row["payload"]
    )
    return {**row, "reason": reason, "payload": payload}


def seal_new_cases(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Event rows of cases inserted in this transaction (bulk imports): each case that has
    free text gets its key, inserted with one statement."""
    keys: dict[int, bytes] = {}
    out = []
    for row in rows:
        if needs_key(row["reason"], row["payload"]):
            case_id = row["case_id"]
            key = keys.setdefault(case_id, new_key())
            reason, payload = seal_fields(key, case_id, row["reason"], row["payload"])
            row = {**row, "reason": reason, "payload": payload}
        out.append(row)
    if keys:
        session.execute(insert(CaseKey), [{"case_id": c, "key": k} for c, k in keys.items()])
    return out
