"""Queue queries shared by the dispatcher's, the unit's and the callback agent's consoles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.cases.models import Case
from jiesu.cases.queries import scoped

PAGE_SIZE = 25
ACTIVE = ("dispatched", "acknowledged", "returned")


@dataclass(frozen=True)
class Page:
    items: Sequence[Case]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def overdue_clause(now: datetime) -> Any:
    return and_(
        Case.status.in_(ACTIVE),
        or_(
            Case.reply_due < now,
            and_(Case.contacted_at.is_(None), Case.contact_due < now),
        ),
    )


def dispatcher_queue(name: str, now: datetime) -> Select[Any]:
    stmt = select(Case)
    if name == "returns":
        return stmt.where(Case.status == "returned").order_by(Case.updated_at)
    if name == "extensions":
        return stmt.where(
            Case.status == "acknowledged", Case.extension_pending_days.is_not(None)
        ).order_by(Case.updated_at)
    if name == "exclusions":
        return stmt.where(Case.exclusion_state == "requested").order_by(Case.updated_at)
    if name == "overdue":
        return stmt.where(overdue_clause(now)).order_by(Case.reply_due)
    return stmt.where(Case.status == "registered").order_by(Case.created_at, Case.id)


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
        return stmt.where(Case.status.in_(("replied", "closed"))).order_by(Case.replied_at.desc())
    if name == "returned":
        return stmt.where(Case.status == "returned").order_by(Case.updated_at.desc())
    # Open work, the nearest reply due first.
    return stmt.where(Case.status.in_(("dispatched", "acknowledged"))).order_by(
        Case.reply_due, Case.id
    )


def callback_queue() -> Select[Any]:
    return select(Case).where(Case.status == "replied").order_by(Case.callback_due, Case.id)
