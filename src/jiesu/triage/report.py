"""How well triage proposals agreed with what the agents and dispatchers finally decided."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.cases.models import Case
from jiesu.cases.workflow import HANDLED, values
from jiesu.units.models import Category

FIELDS = ("category_level1", "category_top3", "request_type", "urgency", "street", "unit")


@dataclass
class Tally:
    n: int = 0
    agree: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, checks: dict[str, bool | None]) -> None:
        self.n += 1
        for name, ok in checks.items():
            if ok is None:
                continue  # nothing final to compare with (e.g. not dispatched yet)
            self.seen[name] += 1
            self.agree[name] += int(ok)

    def to_dict(self) -> dict[str, Any]:
        rates = {
            name: round(self.agree[name] / self.seen[name], 4) if self.seen[name] else None
            for name in FIELDS
        }
        return {"n": self.n, "agreement": rates, "compared": {k: self.seen[k] for k in FIELDS}}


def _checks(case: Case, proposal: dict[str, Any]) -> dict[str, bool | None]:
    cats = [c["code"] for c in proposal.get("categories", [])]
    place = proposal.get("place") or {}
    unit = proposal.get("unit") or {}
    final_cat = case.category
    return {
        "category_level1": (bool(cats) and cats[0][:2] == final_cat[:2]) if final_cat else None,
        "category_top3": any(final_cat.startswith(c) for c in cats) if final_cat else None,
        "request_type": (proposal.get("request_type") or {}).get("value") == case.request_type,
        "urgency": (proposal.get("urgency") or {}).get("value") == case.urgency,
        "street": place.get("street_code") == case.street if case.street else None,
        "unit": unit.get("lead_unit") == case.lead_unit if case.lead_unit else None,
    }


def agreement_report(
    session: Session, tz: ZoneInfo, since: datetime | None = None
) -> dict[str, Any]:
    names = dict(
        session.execute(select(Category.code, Category.name).where(Category.level == 1)).all()
    )
    stmt = select(Case).where(Case.triage.is_not(None))
    if since is not None:
        stmt = stmt.where(Case.created_at >= since)
    overall = Tally()
    by_month: dict[str, Tally] = defaultdict(Tally)
    by_category: dict[str, Tally] = defaultdict(Tally)
    for case in session.scalars(stmt.execution_options(yield_per=1000)):
        proposal = case.triage
        if not proposal:
            continue  # stored as JSON null by an older version: no proposal to judge
        checks = _checks(case, proposal)
        overall.add(checks)
        by_month[case.created_at.astimezone(tz).strftime("%Y-%m")].add(checks)
        top = (case.category or "")[:2]
        by_category[names.get(top, "(none)")].add(checks)
    return {
        "overall": overall.to_dict(),
        "by_month": {m: t.to_dict() for m, t in sorted(by_month.items())},
        "by_category": {c: t.to_dict() for c, t in sorted(by_category.items())},
    }


def training_rows(session: Session, level: int = 1) -> tuple[list[str], list[str]]:
    """Texts and final category names of the centre's own settled cases, for training."""
    names = dict(session.execute(select(Category.code, Category.name)).all())
    width = {1: 2, 2: 4, 3: 6}[level]
    rows = session.execute(
        select(Case.text, Case.category).where(
            Case.category.is_not(None), Case.status.in_(values(HANDLED))
        )
    ).all()
    texts, labels = [], []
    for text, category in rows:
        label = names.get((category or "")[:width])
        if label:
            texts.append(text)
            labels.append(label)
    return texts, labels
