"""Routing rules from the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiesu.memo import TableMemo
from jiesu.routing.models import RoutingRule
from jiesu.routing.rules import Decision, Rule, route
from jiesu.units.catalog import load_routing_rules


def _all_rules(session: Session) -> tuple[tuple[Rule, datetime, datetime | None], ...]:
    rows = session.scalars(select(RoutingRule).order_by(RoutingRule.id))
    return tuple(
        (
            Rule(
                id=r.id,
                category_prefix=r.category_prefix,
                area_code=r.area_code,
                target=r.target,
                co_targets=tuple(t for t in r.co_targets.split("|") if t),
            ),
            r.effective_from,
            r.retired_from,
        )
        for r in rows
    )


# Every registration's triage routes; the rules change a few times a year (jiesu/memo.py).
_RULES = TableMemo(_all_rules, watched=(RoutingRule.__tablename__,))


def load_rules(session: Session, at: datetime) -> list[Rule]:
    """The rules in force at `at`, in id order (the order `route` breaks ties in)."""
    return [
        rule
        for rule, start, end in _RULES.get(session)
        if start <= at and (end is None or end > at)
    ]


def propose_unit(
    session: Session, category: str | None, district: str | None, street: str | None, at: datetime
) -> Decision | None:
    return route(load_rules(session, at), category, district, street)


def seed_default_rules(session: Session, effective_from: datetime) -> None:
    if session.scalar(select(func.count()).select_from(RoutingRule)):
        return
    for row in load_routing_rules():
        session.add(
            RoutingRule(
                category_prefix=row.category_prefix,
                area_code="",
                target=row.target,
                co_targets="|".join(row.co_targets),
                note=row.note,
                effective_from=effective_from,
            )
        )
