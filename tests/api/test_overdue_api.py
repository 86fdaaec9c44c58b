"""Overdue is one rule (sla/due.py): the unit's case list, the dispatcher's overdue queue and the
deadline scanner agree on which limits are overdue — not at the due time itself, once past it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from jiesu.cases.models import Case, Reminder
from jiesu.clock import FixedClock
from jiesu.sla.scheduled import scan
from jiesu.web.pages.queues import counts
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, auth, do, register, to_replied


def _listed(client: TestClient) -> dict[int, set[str]]:
    """Each case's overdue kinds as the unit's case list shows them (a fresh login: the clock
    has moved past the last token's lifetime)."""
    body = client.get("/api/v1/cases", headers=auth(client, f"unit-{STREET}")).json()
    return {c["id"]: set(c["overdue"]) for c in body["items"] if c["overdue"]}


def _scanned(db: Database, clock: FixedClock) -> dict[int, set[str]]:
    """Each case's overdue kinds as the scanner has marked them (督办 rows)."""
    with db.uow() as uow:
        scan(uow, clock)
    with db.uow() as uow:
        rows = uow.session.execute(
            select(Reminder.case_id, Reminder.kind).where(Reminder.stage == "overdue")
        )
        out: dict[int, set[str]] = {}
        for case_id, kind in rows:
            out.setdefault(case_id, set()).add(kind)
        return out


def _queue(db: Database, clock: FixedClock) -> int:
    with db.uow() as uow:
        return counts(uow.session, clock.now())["overdue"]


def test_list_queue_and_scanner_agree_on_overdue(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    waiting = register(db, clock)
    do(db, clock, DISPATCHER, waiting.id, "dispatch", lead_unit=STREET)
    replied = register(db, clock)
    to_replied(db, clock, replied.id)
    with db.uow() as uow:
        contact_due = uow.session.get_one(Case, waiting.id).contact_due
    assert contact_due is not None

    # At the contact due time itself the limit is still met: nobody calls it overdue.
    clock.set(contact_due)
    assert _listed(client) == _scanned(db, clock) == {}
    assert _queue(db, clock) == 0

    # A minute later all three say the same: the contact is overdue, the reply is not.
    clock.advance(timedelta(minutes=1))
    assert _listed(client) == _scanned(db, clock) == {waiting.id: {"contact"}}
    assert _queue(db, clock) == 1

    # Weeks on: the first case's reply too, and the replied case's callback (the centre's).
    clock.advance(timedelta(days=30))
    expected = {waiting.id: {"contact", "reply"}, replied.id: {"callback"}}
    assert _listed(client) == _scanned(db, clock) == expected
    assert _queue(db, clock) == 1  # the dispatcher's queue is of units' limits only
