"""The deadline scanner: 催办 before a due time, overdue (督办) after. Idempotent.

A reminder row is unique per (case, kind, stage, due), inserted with ON CONFLICT DO NOTHING,
so a second run, or two scanners at once, add nothing twice. A run is one transaction: a scanner
killed mid-run leaves nothing behind, and the next run does the whole work.

On PostgreSQL scanners also take turns (a transaction-scoped advisory lock): a second one
waits, then finds nothing new, instead of inserting the same keys at the same time, where two
scans reading the cases in different orders could deadlock. On SQLite the database's single
writer lock already makes them take turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiesu.cases.models import Case, Reminder, Task
from jiesu.cases.workflow import WITH_UNIT, Status, values
from jiesu.clock import Clock
from jiesu.notify.outbox import service as outbox
from jiesu.sla.due import case_dues, is_overdue
from jiesu.uow import UnitOfWork

# Remind when this share of the time allowed is left (default policy; 1 h at least).
REMINDER_SHARE = 0.25
MIN_LEAD = timedelta(hours=1)
# The key of the scanners' PostgreSQL advisory lock ("jiesu-sc" as a bigint).
SCAN_LOCK = int.from_bytes(b"jiesu-sc", "big")


@dataclass(frozen=True)
class Due:
    case_id: int
    kind: str
    due: datetime
    start: datetime
    unit_code: str | None


@dataclass
class ScanResult:
    reminders: int = 0
    overdue: int = 0


def _stage(d: Due, now: datetime) -> str | None:
    if is_overdue(d.due, now):
        return "overdue"
    lead = max((d.due - d.start) * REMINDER_SHARE, MIN_LEAD)
    return "reminder" if now >= d.due - lead else None


def _dues(session: Session) -> Iterator[Due]:
    working = values(WITH_UNIT)
    rows = session.scalars(
        select(Case).where(Case.status.in_(values(WITH_UNIT | {Status.REPLIED})))
    )
    for c in rows:
        for d in case_dues(c):
            # The callback is the centre's to make; the unit is told of its own limits.
            unit = None if d.kind == "callback" else c.lead_unit
            yield Due(c.id, d.kind, d.due, d.start, unit)
    tasks = session.execute(
        select(Task, Case.status)
        .join(Case, Case.id == Task.case_id)
        .where(Task.status != "replied", Case.status.in_(working))
    )
    for task, _status in tasks:
        yield Due(task.case_id, "task", task.due, task.created_at, task.unit_code)


def _insert(session: Session, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not values:
        return []
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(Reminder) if dialect == "postgresql" else sqlite.insert(Reminder)
    added: list[dict[str, Any]] = []
    for i in range(0, len(values), 500):
        stmt = (
            ins.values(values[i : i + 500])
            .on_conflict_do_nothing(index_elements=["case_id", "kind", "stage", "due"])
            .returning(
                Reminder.case_id, Reminder.kind, Reminder.stage, Reminder.due, Reminder.unit_code
            )
        )
        # RETURNING gives the rows really added; rowcount is unreliable for multi-row inserts.
        added += [dict(r._mapping) for r in session.execute(stmt)]
    return added


def scan(uow: UnitOfWork, clock: Clock) -> ScanResult:
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        # Released at commit or rollback, and by the server if this process dies.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCAN_LOCK})
    now = clock.now()
    rows: dict[str, list[dict[str, Any]]] = {"reminder": [], "overdue": []}
    for d in _dues(session):
        stage = _stage(d, now)
        if stage is None:
            continue
        rows[stage].append(
            {
                "case_id": d.case_id,
                "kind": d.kind,
                "stage": stage,
                "due": d.due,
                "unit_code": d.unit_code,
                "created_at": now,
            }
        )
    reminders, overdue = _insert(session, rows["reminder"]), _insert(session, rows["overdue"])
    result = ScanResult(len(reminders), len(overdue))
    # Units are told only of rows this run added, so a re-run sends nothing twice.
    if outbox.enqueue_unit_notices(session, reminders + overdue, now):
        uow.on_commit(outbox.kick)
    uow.commit()
    return result
