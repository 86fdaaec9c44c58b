"""The deadline scanner: reminders before due, overdue after, and nothing twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jiesu.cases.models import Reminder
from jiesu.clock import FixedClock
from jiesu.sla.scheduled import scan
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, do, handler, register


def reminders(db: Database) -> list[tuple[int, str, str]]:
    with db.uow() as uow:
        rows = uow.session.scalars(select(Reminder).order_by(Reminder.id))
        return [(r.case_id, r.kind, r.stage) for r in rows]


def test_reminder_then_overdue_and_idempotent(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    with db.uow() as uow:
        assert scan(uow, clock).reminders == 0  # plenty of time left
    clock.advance(timedelta(hours=20))  # contact due in 24 h: within the last quarter
    with db.uow() as uow:
        first = scan(uow, clock)
    assert (first.reminders, first.overdue) == (1, 0)
    with db.uow() as uow:
        again = scan(uow, clock)
    assert (again.reminders, again.overdue) == (0, 0)
    clock.advance(timedelta(hours=5))
    with db.uow() as uow:
        late = scan(uow, clock)
    assert late.overdue == 1
    assert reminders(db) == [(case.id, "contact", "reminder"), (case.id, "contact", "overdue")]
    with db.uow() as uow:
        assert scan(uow, clock).overdue == 0


def test_contact_stops_contact_reminders(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), case.id, "acknowledge")
    do(db, clock, handler(), case.id, "contact")
    clock.advance(timedelta(days=30))
    with db.uow() as uow:
        result = scan(uow, clock)
    assert result.overdue == 1
    assert reminders(db) == [(case.id, "reply", "overdue")]
