"""Routing rules from the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.changelog import record_change
from jiesu.clock import Clock
from jiesu.errors import InvalidInput
from jiesu.memo import TableMemo
from jiesu.routing.models import RoutingRule
from jiesu.routing.rules import DISTRICT, STREET, Decision, Rule, route
from jiesu.sla.service import check_category_prefix
from jiesu.units.catalog import load_routing_rules
from jiesu.units.models import Unit
from jiesu.uow import UnitOfWork


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


def _known_unit(session: Session, code: str, field: str) -> None:
    if session.get(Unit, code) is None:
        raise InvalidInput.of("unknown_unit", field=field, unit=code)


def add_rule(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    rule: RoutingRule,
) -> RoutingRule:
    """A new rule (category prefix × area → target and co-targets), in force from its
    effective_from; the most specific rule in force wins (rules.route). Every code it names
    is a unit of the catalogue, or @street / @district for the case's own."""
    session = uow.session
    check_category_prefix(session, rule.category_prefix)
    if rule.area_code:
        _known_unit(session, rule.area_code, "area_code")
    if not rule.target:
        raise InvalidInput("target: a unit code, @street or @district", details={"field": "target"})
    if rule.target not in (STREET, DISTRICT):
        _known_unit(session, rule.target, "target")
    co = [c for c in rule.co_targets.split("|") if c]
    for c in co:
        if c not in (STREET, DISTRICT):
            _known_unit(session, c, "co_targets")
    session.add(rule)
    session.flush()
    record_change(
        session,
        actor,
        clock.now(),
        "routing",
        f"rule {rule.id}: {rule.category_prefix or '*'} × {rule.area_code or '*'} → {rule.target}",
        f"co {rule.co_targets or '-'}; from {rule.effective_from.isoformat()}; {rule.note}",
    )
    uow.commit()
    return rule


def retire_rule(
    uow: UnitOfWork, clock: Clock, actor: Actor, rule_id: int, since: datetime
) -> RoutingRule:
    """A rule retired from a date on stays in the history, and in force before that date."""
    session = uow.session
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise InvalidInput(f"rule_id: no rule {rule_id}", details={"field": "rule_id"})
    if rule.retired_from is not None:
        raise InvalidInput(
            f"rule_id: rule {rule_id} is already retired", details={"field": "rule_id"}
        )
    rule.retired_from = max(since, rule.effective_from)
    record_change(
        session,
        actor,
        clock.now(),
        "routing",
        f"rule {rule.id} retired",
        f"from {rule.retired_from.isoformat()}",
    )
    uow.commit()
    return rule
