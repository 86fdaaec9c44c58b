"""Routing rules from the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from jiesu.routing.models import RoutingRule
from jiesu.routing.rules import Decision, Rule, route
from jiesu.units.catalog import load_routing_rules


def load_rules(session: Session, at: datetime) -> list[Rule]:
    rows = session.scalars(
        select(RoutingRule).where(
            RoutingRule.effective_from <= at,
            or_(RoutingRule.retired_from.is_(None), RoutingRule.retired_from > at),
        )
    )
    return [
        Rule(
            id=r.id,
            category_prefix=r.category_prefix,
            area_code=r.area_code,
            target=r.target,
            co_targets=tuple(t for t in r.co_targets.split("|") if t),
        )
        for r in rows
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
