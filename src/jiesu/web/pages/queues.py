"""Queue queries shared by the dispatcher's, the unit's and the callback agent's consoles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.cases.models import Case
from jiesu.cases.queries import scoped
from jiesu.cases.workflow import HANDLED, WITH_UNIT, Status, values
from jiesu.sla.service import overdue_clause

PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    items: Sequence[Case]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def dispatcher_queue(name: str, now: datetime) -> Select[Any]:
    stmt = select(Case)
    if name == "returns":
        return stmt.where(Case.status == Status.RETURNED.value).order_by(Case.updated_at)
    if name == "extensions":
        return stmt.where(
            Case.status == Status.ACKNOWLEDGED.value, Case.extension_pending_days.is_not(None)
        ).order_by(Case.updated_at)
    if name == "exclusions":
        return stmt.where(Case.exclusion_state == "requested").order_by(Case.updated_at)
    if name == "overdue":
        return stmt.where(overdue_clause(now)).order_by(Case.reply_due)
    return stmt.where(Case.status == Status.REGISTERED.value).order_by(Case.created_at, Case.id)


DISPATCHER_QUEUES = ("dispatch", "returns", "extensions", "exclusions", "overdue")


def paged(session: Session, stmt: Select[Any], page: int, size: int = PAGE_SIZE) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.offset((page - 1) * size).limit(size)).all()
    return Page(items, total, page, size)


def counts(session: Session, now: datetime) -> dict[str, int]:
    return {
        name: session.scalar(
            select(func.count()).select_from(dispatcher_queue(name, now).order_by(None).subquery())
        )
        or 0
        for name in DISPATCHER_QUEUES
    }


def unit_inbox(actor: Actor, name: str) -> Select[Any]:
    """A handler's cases: the unit-scoping of the API (only cases its unit holds)."""
    stmt = scoped(select(Case), actor)
    if name == "done":
        return stmt.where(Case.status.in_(values(HANDLED))).order_by(Case.replied_at.desc())
    if name == "returned":
        return stmt.where(Case.status == Status.RETURNED.value).order_by(Case.updated_at.desc())
    # Open work, the nearest reply due first (returned cases have their own tab).
    return stmt.where(Case.status.in_(values(WITH_UNIT - {Status.RETURNED}))).order_by(
        Case.reply_due, Case.id
    )


def callback_queue() -> Select[Any]:
    return (
        select(Case).where(Case.status == Status.REPLIED.value).order_by(Case.callback_due, Case.id)
    )
