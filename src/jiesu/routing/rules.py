"""Routing-rule evaluation (派单目录), pure: category × area → lead unit (+ co units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STREET = "@street"
DISTRICT = "@district"


@dataclass(frozen=True)
class Rule:
    id: int
    category_prefix: str
    area_code: str
    target: str
    co_targets: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    lead_unit: str
    co_units: tuple[str, ...]
    rule_id: int
    explanation: str

    def to_dict(self) -> dict[str, object]:
        return {
            "lead_unit": self.lead_unit,
            "co_units": list(self.co_units),
            "rule_id": self.rule_id,
            "rule": self.explanation,
        }


def _specificity(rule: Rule) -> tuple[int, int]:
    return (len(rule.category_prefix), len(rule.area_code))


def _resolve(target: str, district: str | None, street: str | None) -> str | None:
    if target == STREET:
        # No street known: the district government is responsible (兜底).
        return street or district
    if target == DISTRICT:
        return district
    return target


def route(
    rules: Sequence[Rule], category: str | None, district: str | None, street: str | None
) -> Decision | None:
    """The most specific rule wins: longest category prefix, then the narrowest area."""
    cat = category or ""
    matching = [
        r
        for r in rules
        if cat.startswith(r.category_prefix)
        and (r.area_code == "" or r.area_code in (district, street))
    ]
    for rule in sorted(matching, key=_specificity, reverse=True):
        lead = _resolve(rule.target, district, street)
        if lead is None:
            continue
        co = tuple(
            c
            for c in (_resolve(t, district, street) for t in rule.co_targets)
            if c is not None and c != lead
        )
        why = f"rule {rule.id}: category '{rule.category_prefix or '*'}'"
        why += f", area '{rule.area_code or '*'}' → {rule.target}"
        return Decision(lead, co, rule.id, why)
    return None
