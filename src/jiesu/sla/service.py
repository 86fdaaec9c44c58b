"""Time limits from the stored policy and calendar: the bridge from tables to the pure rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.cases.models import Case
from jiesu.cases.workflow import WITH_UNIT, values
from jiesu.changelog import record_change
from jiesu.clock import Clock
from jiesu.errors import InvalidInput
from jiesu.sla.calendar import HOLIDAY_KINDS, WorkCalendar, is_weekend, load_default_calendar
from jiesu.sla.deadlines import DEFAULT_POLICY, PolicyRow, TimeLimit, due_at, select_policy
from jiesu.sla.models import CalendarDay, SlaPolicy
from jiesu.units.models import Category
from jiesu.uow import UnitOfWork


@dataclass(frozen=True)
class Dues:
    policy_version: int
    contact_due: datetime
    reply_due: datetime


def load_calendar(session: Session) -> WorkCalendar:
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return WorkCalendar(
        holidays=[d for d, k in rows if k == "holiday"],
        workdays=[d for d, k in rows if k == "workday"],
    )


def _row(p: SlaPolicy) -> PolicyRow:
    return PolicyRow(
        version=p.version,
        request_type=p.request_type,
        category_prefix=p.category_prefix,
        urgency=p.urgency,
        contact=TimeLimit(p.contact_value, p.contact_unit),  # type: ignore[arg-type]
        reply=TimeLimit(p.reply_value, p.reply_unit),  # type: ignore[arg-type]
        callback=TimeLimit(p.callback_value, p.callback_unit),  # type: ignore[arg-type]
        effective_from=p.effective_from,
    )


def load_policies(session: Session) -> list[PolicyRow]:
    return [_row(p) for p in session.scalars(select(SlaPolicy))]


def policy_for(
    session: Session, request_type: str, category: str | None, urgency: str, at: datetime
) -> PolicyRow:
    return select_policy(load_policies(session), request_type, category, urgency, at)


def compute_dues(
    session: Session,
    *,
    request_type: str,
    category: str | None,
    urgency: str,
    start: datetime,
    tz: ZoneInfo,
) -> Dues:
    policy = policy_for(session, request_type, category, urgency, start)
    calendar = load_calendar(session)
    return Dues(
        policy_version=policy.version,
        contact_due=due_at(start, policy.contact, calendar, tz),
        reply_due=due_at(start, policy.reply, calendar, tz),
    )


def overdue_clause(now: datetime) -> Any:
    """Cases whose unit is past its contact or reply limit: sla.due.overdue_kinds in SQL (the
    same statuses, and overdue only once `now` is past the due time), for queues and counts."""
    return and_(
        Case.status.in_(values(WITH_UNIT)),
        or_(Case.reply_due < now, and_(Case.contacted_at.is_(None), Case.contact_due < now)),
    )


def seed_defaults(session: Session) -> None:
    """Default policy (DB11/T 2021) and the shipped holiday calendar, if none is loaded yet."""
    if not session.scalar(select(func.count()).select_from(SlaPolicy)):
        for row in DEFAULT_POLICY:
            session.add(
                SlaPolicy(
                    version=row.version,
                    request_type=row.request_type,
                    category_prefix=row.category_prefix,
                    urgency=row.urgency,
                    contact_value=row.contact.value,
                    contact_unit=row.contact.unit,
                    reply_value=row.reply.value,
                    reply_unit=row.reply.unit,
                    callback_value=row.callback.value,
                    callback_unit=row.callback.unit,
                    effective_from=row.effective_from,
                )
            )
    if not session.scalar(select(func.count()).select_from(CalendarDay)):
        calendar = load_default_calendar()
        for day in sorted(calendar.holidays):
            session.add(CalendarDay(day=day, kind="holiday"))
        for day in sorted(calendar.workdays):
            session.add(CalendarDay(day=day, kind="workday"))


@dataclass(frozen=True)
class NewTimeLimits:
    """A new version of one policy row: (request type, category prefix, urgency) → limits.
    None or "" in a key means any; each limit is (value, "hours" | "workdays")."""

    request_type: str | None
    category_prefix: str
    urgency: str | None
    contact: tuple[int, str]
    reply: tuple[int, str]
    callback: tuple[int, str]
    effective_from: datetime


def check_category_prefix(session: Session, prefix: str) -> str:
    """A prefix matches at least one category of the catalogue (a typo would match none)."""
    if prefix and not session.scalar(
        select(func.count()).where(Category.code.startswith(prefix, autoescape=True))
    ):
        raise InvalidInput.of("no_category_prefix", field="category_prefix", prefix=prefix)
    return prefix


def add_time_limits(uow: UnitOfWork, clock: Clock, actor: Actor, cmd: NewTimeLimits) -> SlaPolicy:
    """A change never edits a row: it adds a version, so every case keeps the limits it was
    given (DESIGN §4); the change log says who added it."""
    session = uow.session
    check_category_prefix(session, cmd.category_prefix)
    row = SlaPolicy(
        version=(session.scalar(select(func.max(SlaPolicy.version))) or 0) + 1,
        request_type=cmd.request_type or None,
        category_prefix=cmd.category_prefix,
        urgency=cmd.urgency or None,
        contact_value=cmd.contact[0],
        contact_unit=cmd.contact[1],
        reply_value=cmd.reply[0],
        reply_unit=cmd.reply[1],
        callback_value=cmd.callback[0],
        callback_unit=cmd.callback[1],
        effective_from=cmd.effective_from,
    )
    session.add(row)
    key = f"{row.request_type or '*'} / {row.category_prefix or '*'} / {row.urgency or '*'}"
    limits = {"contact": cmd.contact, "reply": cmd.reply, "callback": cmd.callback}
    detail = ", ".join(f"{k} {v} {u}" for k, (v, u) in limits.items())
    record_change(
        session,
        actor,
        clock.now(),
        "time_limits",
        f"v{row.version} {key}",
        f"{detail}; from {row.effective_from.isoformat()}",
    )
    uow.commit()
    return row


DAY_NAME_MAX = 50  # calendar_day.name


def set_calendar_day(
    uow: UnitOfWork, clock: Clock, actor: Actor, day: date, kind: str, name: str
) -> CalendarDay:
    """One exception to Monday–Friday: a public holiday, or a make-up workday (调休上班), as the
    State Council's notice for the year lists it. Due times computed from now on count with
    it; those already stored on cases stay as they were given (DESIGN §4)."""
    if kind not in HOLIDAY_KINDS:
        raise InvalidInput.of("choose_one", field="kind", choices=", ".join(sorted(HOLIDAY_KINDS)))
    if kind == "workday" and not is_weekend(day):
        raise InvalidInput.of("makeup_on_weekday", field="day", day=day.isoformat())
    if len(name) > DAY_NAME_MAX:
        raise InvalidInput.of("max_chars", field="name", limit=DAY_NAME_MAX)
    session = uow.session
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=kind, name=name)
        session.add(row)
    else:
        row.kind, row.name = kind, name
    record_change(session, actor, clock.now(), "holidays", f"{kind} {day.isoformat()}", name)
    uow.commit()
    return row


def remove_calendar_day(uow: UnitOfWork, clock: Clock, actor: Actor, day: date) -> bool:
    """The day counts as an ordinary weekday or weekend day again; False if it was not listed."""
    session = uow.session
    row = session.get(CalendarDay, day)
    if row is None:
        return False
    session.delete(row)
    record_change(session, actor, clock.now(), "holidays", f"remove {day.isoformat()}")
    uow.commit()
    return True
