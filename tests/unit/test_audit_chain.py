"""The chain link is a pure function: every field counts, and encoding noise does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from jiesu.audit.append import chain_new_cases
from jiesu.audit.chain import link

AT = datetime(2026, 10, 12, 2, 0, 0, 123456, tzinfo=UTC)


def row(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "case_id": 7,
        "seq": 1,
        "at": AT,
        "actor": "agent",
        "role": "agent",
        "unit_code": None,
        "action": "register",
        "from_status": None,
        "to_status": "registered",
        "reason": "",
        "payload": {"channel": "phone", "n": 1},
    }
    base.update(over)
    return base


@pytest.mark.parametrize(
    "field,value",
    [
        ("case_id", 8),
        ("seq", 2),
        ("at", AT + timedelta(microseconds=1)),
        ("actor", "agent2"),
        ("role", "admin"),
        ("unit_code", "110101001"),
        ("action", "answer"),
        ("from_status", "registered"),
        ("to_status", "answered"),
        ("reason", "改了"),
        ("payload", {"channel": "web", "n": 1}),
    ],
)
def test_every_field_changes_the_hash(field: str, value: Any) -> None:
    assert link(None, row(**{field: value})) != link(None, row())


def test_the_previous_hash_changes_the_hash() -> None:
    assert link("a" * 64, row()) != link(None, row()) != link("b" * 64, row())


def test_same_instant_in_another_zone_and_key_order_hash_alike() -> None:
    # What the database hands back (UTC, keys reordered by JSONB) must verify.
    beijing = AT.astimezone(timezone(timedelta(hours=8)))
    reordered = {"n": 1, "channel": "phone"}
    assert link(None, row(at=beijing, payload=reordered)) == link(None, row())
    naive_utc = AT.replace(tzinfo=None)  # SQLite read without the column type
    assert link(None, row(at=naive_utc)) == link(None, row())


def test_bulk_rows_are_numbered_and_linked_per_case() -> None:
    rows = [row(case_id=1), row(case_id=2), row(case_id=1, action="dispatch")]
    out = chain_new_cases([{k: v for k, v in r.items() if k != "seq"} for r in rows])
    assert [(r["case_id"], r["seq"]) for r in out] == [(1, 1), (2, 1), (1, 2)]
    assert out[2]["chain_hash"] == link(out[0]["chain_hash"], out[2])
