"""考评 scoring rules (DESIGN §6): counts in, rates, composite and ranks out.

Pure: no database, no DuckDB, no Spark. The engines only count cases; every rate, weight and
rank is decided here, with exact fractions, so DuckDB and Spark can never disagree on a
rounding and a frozen month can be recomputed to the last digit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from math import lcm
from typing import Any

from jiesu.reasons import Reason, Refusal

# unit.kind → ranking group; communities are never ranked on their own (their street is).
GROUPS: dict[str, str] = {
    "district": "districts",
    "street": "streets",
    "department": "departments",
    "enterprise": "enterprises",
}
GROUP_NAMES = tuple(GROUPS.values())
ANY_KIND = "*"


@dataclass(frozen=True)
class Policy:
    """One row of assessment policy: the weights and factors in force for a unit kind."""

    unit_kind: str = ANY_KIND
    effective_from: str = "2000-01"  # first month (YYYY-MM) the row applies to
    response_weight: Fraction = Fraction(1, 10)
    resolution_weight: Fraction = Fraction(45, 100)
    satisfaction_weight: Fraction = Fraction(45, 100)
    basically_factor: Fraction = Fraction(6, 10)  # 基本满意 counts 0.6 of 满意
    partly_factor: Fraction = Fraction(0)  # 部分解决 counts nothing by default
    min_cases: int = 10  # fewer assessed cases than this: shown, not ranked

    def __post_init__(self) -> None:
        total = self.response_weight + self.resolution_weight + self.satisfaction_weight
        if total != 1:
            raise Refusal(Reason("weights_sum", {"total": float(total)}))
        for name in ("basically_factor", "partly_factor"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must lie in [0, 1]")
        if self.min_cases < 0:
            raise ValueError("min_cases must not be negative")

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_kind": self.unit_kind,
            "effective_from": self.effective_from,
            "response_weight": str(self.response_weight),
            "resolution_weight": str(self.resolution_weight),
            "satisfaction_weight": str(self.satisfaction_weight),
            "basically_factor": str(self.basically_factor),
            "partly_factor": str(self.partly_factor),
            "min_cases": self.min_cases,
        }


DEFAULT_POLICY = Policy()


def policy_for(policies: Iterable[Policy], unit_kind: str, month: str) -> Policy:
    """The row in force for a unit kind in a month: the newest one already effective, a row
    for the exact kind beating the catch-all '*' row."""
    best: Policy | None = None
    for p in policies:
        if p.effective_from > month or p.unit_kind not in (unit_kind, ANY_KIND):
            continue
        key = (p.unit_kind == unit_kind, p.effective_from)
        if best is None or key > (best.unit_kind == unit_kind, best.effective_from):
            best = p
    return best or DEFAULT_POLICY


@dataclass(frozen=True)
class UnitCounts:
    """What the metric SQL returns for one unit and one month."""

    unit: str
    assessed: int
    responded: int
    resolved: int
    partly: int
    satisfied: int
    basically: int

    def __post_init__(self) -> None:
        parts = (self.responded, self.resolved, self.partly, self.satisfied, self.basically)
        if self.assessed < 0 or any(p < 0 or p > self.assessed for p in parts):
            raise ValueError(f"inconsistent counts for unit {self.unit}")
        if self.resolved + self.partly > self.assessed:
            raise ValueError(f"resolved + partly exceed assessed for unit {self.unit}")
        if self.satisfied + self.basically > self.assessed:
            raise ValueError(f"satisfied + basically exceed assessed for unit {self.unit}")


@dataclass(frozen=True)
class UnitScore:
    unit: str
    name: str
    group: str
    counts: UnitCounts
    response_rate: Fraction
    resolution_rate: Fraction
    satisfaction_rate: Fraction
    composite: Fraction
    rank: int | None  # None: below the minimum count, shown but not ranked

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "name": self.name,
            "group": self.group,
            "assessed": self.counts.assessed,
            "response_rate": float(self.response_rate),
            "resolution_rate": float(self.resolution_rate),
            "satisfaction_rate": float(self.satisfaction_rate),
            "composite": float(self.composite),
            "rank": self.rank,
        }


@dataclass(frozen=True)
class _Coefficients:
    """A policy as integers over one denominator, so that a unit's composite is one exact
    fraction (a·responded + b·resolved + c·partly + d·satisfied + e·basically) / (den·n) —
    the same value as the weighted sum of the rates, at a fraction of the cost."""

    den: int
    a: int
    b: int
    c: int
    d: int
    e: int
    partly: Fraction
    basically: Fraction


@cache
def _coefficients(p: Policy) -> _Coefficients:
    terms = (
        p.response_weight,
        p.resolution_weight,
        p.resolution_weight * p.partly_factor,
        p.satisfaction_weight,
        p.satisfaction_weight * p.basically_factor,
    )
    den = lcm(*(t.denominator for t in terms))
    a, b, c, d, e = (int(t * den) for t in terms)
    return _Coefficients(den, a, b, c, d, e, p.partly_factor, p.basically_factor)


def rates(
    c: UnitCounts, p: Policy, k: _Coefficients | None = None
) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """Response, resolution, satisfaction and composite as exact fractions of assessed
    (`k`: the policy's coefficients, when the caller already has them)."""
    if c.assessed == 0:
        zero = Fraction(0)
        return zero, zero, zero, zero
    n = c.assessed
    k = k or _coefficients(p)
    pf, bf = k.partly, k.basically
    response = Fraction(c.responded, n)
    resolution = Fraction(c.resolved * pf.denominator + pf.numerator * c.partly, pf.denominator * n)
    satisfaction = Fraction(
        c.satisfied * bf.denominator + bf.numerator * c.basically, bf.denominator * n
    )
    composite = Fraction(
        k.a * c.responded
        + k.b * c.resolved
        + k.c * c.partly
        + k.d * c.satisfied
        + k.e * c.basically,
        k.den * n,
    )
    return response, resolution, satisfaction, composite


def pooled(unit: str, counts: Iterable[UnitCounts]) -> UnitCounts:
    """Several units' counts as one, so a city's or a livelihood dimension's rates come from
    `rates` like any unit's (never from a formula written again)."""
    cs = list(counts)
    return UnitCounts(
        unit,
        sum(c.assessed for c in cs),
        sum(c.responded for c in cs),
        sum(c.resolved for c in cs),
        sum(c.partly for c in cs),
        sum(c.satisfied for c in cs),
        sum(c.basically for c in cs),
    )


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    kind: str


@dataclass
class Assessment:
    month: str
    units: list[UnitScore] = field(default_factory=list)
    policies: Sequence[Policy] = ()  # the rows it was scored under

    def overall(self) -> tuple[UnitCounts, tuple[Fraction, Fraction, Fraction, Fraction]]:
        """All assessed units' cases pooled, rated under the catch-all policy in force."""
        counts = pooled("*", (u.counts for u in self.units))
        return counts, rates(counts, policy_for(self.policies, ANY_KIND, self.month))

    def group(self, name: str | None) -> list[UnitScore]:
        return [u for u in self.units if name is None or u.group == name]

    def as_dict(self, group: str | None = None) -> dict[str, Any]:
        return {"month": self.month, "units": [u.as_dict() for u in self.group(group)]}


def score(
    month: str,
    counts: Iterable[UnitCounts],
    units: dict[str, UnitInfo],
    policies: Sequence[Policy] = (),
) -> Assessment:
    """Rates for every counted unit of a ranked kind, then ranks within each group.

    Ranks are competition ranks (1, 2, 2, 4): equal composites share a rank, since a tie on
    an exact fraction is a real tie. Within a tie the listing order is by code.
    """
    scored: list[tuple[UnitScore, int]] = []
    in_force: dict[str, tuple[Policy, _Coefficients]] = {}  # per unit kind, for this month
    for c in counts:
        info = units.get(c.unit)
        if info is None or info.kind not in GROUPS:
            continue
        if info.kind not in in_force:
            p = policy_for(policies, info.kind, month)
            in_force[info.kind] = p, _coefficients(p)
        p, k = in_force[info.kind]
        r, res, sat, comp = rates(c, p, k)
        unit = UnitScore(c.unit, info.name, GROUPS[info.kind], c, r, res, sat, comp, None)
        scored.append((unit, p.min_cases))
    out: list[UnitScore] = []
    for group in GROUP_NAMES:
        members = [(u, m) for u, m in scored if u.group == group]
        ranked = _by_composite(u for u, m in members if u.counts.assessed >= m)
        last: Fraction | None = None
        rank = 0
        for i, u in enumerate(ranked, start=1):
            if u.composite != last:
                rank, last = i, u.composite
            out.append(_with_rank(u, rank))
        out.extend(_by_composite(u for u, m in members if u.counts.assessed < m))
    return Assessment(month, out, tuple(policies))


def _order(u: UnitScore) -> tuple[Fraction, str]:
    return (-u.composite, u.unit)


def _by_composite(units: Iterable[UnitScore]) -> list[UnitScore]:
    """Highest composite first, by code within a tie: sorted on the composite's float (fast),
    then every run of equal floats again on the exact fraction. The float of a fraction is
    correctly rounded, hence monotonic, so only distinct fractions sharing a float can be out
    of order after the first sort, and the second puts them right."""
    keyed = sorted(((-float(u.composite), u.unit, u) for u in units), key=lambda t: t[:2])
    out: list[UnitScore] = []
    i = 0
    while i < len(keyed):
        j = i + 1
        while j < len(keyed) and keyed[j][0] == keyed[i][0]:
            j += 1
        run = [t[2] for t in keyed[i:j]]
        out.extend(sorted(run, key=_order) if len(run) > 1 else run)
        i = j
    return out


def _with_rank(u: UnitScore, rank: int) -> UnitScore:
    return UnitScore(
        u.unit,
        u.name,
        u.group,
        u.counts,
        u.response_rate,
        u.resolution_rate,
        u.satisfaction_rate,
        u.composite,
        rank,
    )


FIGURES = ("assessed", "response_rate", "resolution_rate", "satisfaction_rate", "composite", "rank")


def diff(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per unit, the figures that changed between two versions (rows as in `as_dict`)."""
    before = {r["unit"]: r for r in old}
    after = {r["unit"]: r for r in new}
    changes: list[dict[str, Any]] = []
    for code in sorted(before.keys() | after.keys()):
        a, b = before.get(code), after.get(code)
        if a is None or b is None:
            changes.append(
                {"unit": code, "change": "added" if a is None else "removed", "row": a or b}
            )
            continue
        fields = {f: {"from": a[f], "to": b[f]} for f in FIGURES if a.get(f) != b.get(f)}
        if fields:
            changes.append({"unit": code, "change": "changed", "fields": fields})
    return changes


def movers(
    previous: Sequence[UnitScore], current: Sequence[UnitScore], limit: int = 10
) -> list[tuple[UnitScore, int]]:
    """Ranked units whose rank moved most since the previous month (positive = climbed)."""
    before = {u.unit: u.rank for u in previous if u.rank is not None}
    moved = [
        (u, before[u.unit] - u.rank)
        for u in current
        if u.rank is not None and before.get(u.unit) is not None
    ]
    moved.sort(key=lambda m: (-abs(m[1]), m[0].unit))
    return [m for m in moved if m[1] != 0][:limit]


def focus_streets(
    current: Sequence[UnitScore], volume_quantile: float = 0.8, composite_quantile: float = 0.2
) -> list[UnitScore]:
    """治理类街乡镇: ranked streets at or above the volume quantile and at or below the
    composite quantile of this month's ranked streets (both thresholds are policy)."""
    streets = [u for u in current if u.group == "streets" and u.rank is not None]
    if not streets:
        return []
    volumes = sorted(u.counts.assessed for u in streets)
    composites = sorted(u.composite for u in streets)
    v_cut = volumes[min(len(volumes) - 1, int(volume_quantile * len(volumes)))]
    c_cut = composites[min(len(composites) - 1, int(composite_quantile * len(composites)))]
    chosen = [u for u in streets if u.counts.assessed >= v_cut and u.composite <= c_cut]
    return sorted(chosen, key=lambda u: (u.composite, u.unit))
