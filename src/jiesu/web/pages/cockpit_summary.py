"""The cockpit's figures from jiesu.assessment and the analytics lake, never the raw stream.

A month that has been frozen reads its snapshot (small rows in the database); any other month
is scored live from the lake's unit × month counts (one DuckDB query for the whole trend) and
its monthly_volume metric. Rankings are the assessment's own: units below the minimum case
count of their policy are shown as "not ranked", never placed. The result is cached per lake
state (the lake only changes at a refresh), the snapshots and the weights, so a leader moving
the slider back and forth pays for each month once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiesu.analytics.engines import DuckDBEngine, run_metric
from jiesu.assessment import service
from jiesu.assessment.models import AssessmentPolicy, AssessmentSnapshot
from jiesu.assessment.scoring import DEFAULT_POLICY, Assessment, UnitScore, focus_streets

TREND_MONTHS = 6
CACHE_SIZE = 64


@dataclass(frozen=True)
class CityRates:
    assessed: int
    response: float | None
    resolution: float | None
    satisfaction: float | None
    composite: float | None


@dataclass
class Figures:
    month: str
    source: str  # "frozen" | "live" | "none" (no lake and no snapshot)
    version: int | None
    assessment: Assessment | None
    city: CityRates
    month_volume: int | None
    trend: list[tuple[str, int | None, CityRates]] = field(default_factory=list)
    district_volume: dict[str, int] = field(default_factory=dict)

    def units(self, group: str) -> list[UnitScore]:
        return self.assessment.group(group) if self.assessment else []

    def focus(self) -> list[UnitScore]:
        return focus_streets(self.assessment.units) if self.assessment else []


def city_rates(units: list[UnitScore]) -> CityRates:
    """The city's three rates over every assessed unit's cases (default factors, DESIGN §6)."""
    n = sum(u.counts.assessed for u in units)
    if n == 0:
        return CityRates(0, None, None, None, None)
    p = DEFAULT_POLICY
    responded = sum(u.counts.responded for u in units)
    resolved = sum(u.counts.resolved + p.partly_factor * u.counts.partly for u in units)
    satisfied = sum(u.counts.satisfied + p.basically_factor * u.counts.basically for u in units)
    r, s, t = Fraction(responded, n), Fraction(resolved) / n, Fraction(satisfied) / n
    composite = p.response_weight * r + p.resolution_weight * s + p.satisfaction_weight * t
    return CityRates(n, float(r), float(s), float(t), float(composite))


def district_scores(figures: Figures, parent: dict[str, str | None]) -> dict[str, CityRates]:
    """Each district's rates over the cases of its government and its streets."""
    members: dict[str, list[UnitScore]] = {}
    for u in figures.assessment.units if figures.assessment else []:
        district = u.unit if u.group == "districts" else parent.get(u.unit)
        if u.group in ("districts", "streets") and district:
            members.setdefault(district, []).append(u)
    return {code: city_rates(units) for code, units in members.items()}


def _lake_key(lake: Path) -> str:
    state = lake / "_state.json"
    return str(state.stat().st_mtime_ns) if state.exists() else "none"


def _db_key(session: Session) -> str:
    """Changes whenever a month is frozen again or the weights change."""
    snaps = session.execute(select(func.count(), func.max(AssessmentSnapshot.id))).one()
    weights = session.execute(select(func.count(), func.max(AssessmentPolicy.id))).one()
    return hashlib.sha256(repr((tuple(snaps), tuple(weights))).encode()).hexdigest()[:16]


_cache: OrderedDict[tuple[str, ...], Figures] = OrderedDict()
_lock = threading.Lock()


def figures(session: Session, lake: Path, month: str) -> Figures:
    key = (str(lake), _lake_key(lake), _db_key(session), month)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    result = _compute(session, lake, month)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _compute(session: Session, lake: Path, month: str) -> Figures:
    policies = service.load_policies(session)
    first = service.shift_month(month, -(TREND_MONTHS - 1))
    months = [service.shift_month(first, i) for i in range(TREND_MONTHS)]
    scored: dict[str, Assessment] = {}
    volumes: dict[str, int] = {}
    district_volume: dict[str, int] = {}
    if (lake / "_state.json").exists():
        engine = DuckDBEngine(lake)
        try:
            scored = service.history(engine, month, TREND_MONTHS, policies)
            for row in run_metric(engine, "monthly_volume", first, month):
                m, n = str(row["month"]), int(row["cases"])
                volumes[m] = volumes.get(m, 0) + n
                if m == month:
                    d = str(row["district"])
                    district_volume[d] = district_volume.get(d, 0) + n
        finally:
            engine.close()
    source, version = ("live", None) if scored else ("none", None)
    for m in months:
        snap = service.latest_snapshot(session, m)
        if snap is not None:
            scored[m] = service.frozen(session, snap)
            if m == month:
                source, version = "frozen", snap.version
    current = scored.get(month)
    trend = [
        (m, volumes.get(m) if volumes else None, city_rates(scored[m].units if m in scored else []))
        for m in months
    ]
    return Figures(
        month=month,
        source=source,
        version=version,
        assessment=current,
        city=city_rates(current.units if current else []),
        month_volume=volumes.get(month) if volumes else None,
        trend=trend,
        district_volume=district_volume,
    )


def metric_value(name: str, rates: CityRates | None, volume: int | None) -> float | None:
    if name == "volume":
        return None if volume is None else float(volume)
    if rates is None or rates.assessed == 0:
        return None
    value: Any = getattr(rates, name, None)
    return None if value is None else round(100 * value, 1)


def unit_metric(name: str, u: UnitScore) -> float | None:
    if name == "volume":
        return float(u.counts.assessed)
    value = {
        "composite": u.composite,
        "response": u.response_rate,
        "resolution": u.resolution_rate,
        "satisfaction": u.satisfaction_rate,
    }.get(name)
    return None if value is None else round(100 * float(value), 1)
