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
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiesu.analytics.engines import DuckDBEngine, run_metric
from jiesu.assessment import service
from jiesu.assessment.models import AssessmentPolicy, AssessmentSnapshot
from jiesu.assessment.scoring import Assessment, UnitScore, focus_streets

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


def city_rates(assessment: Assessment | None) -> CityRates:
    """The city's three rates over every assessed unit's cases, under the weights in force
    for the month (scoring.Assessment.overall)."""
    if assessment is None:
        return CityRates(0, None, None, None, None)
    counts, (r, s, t, composite) = assessment.overall()
    if counts.assessed == 0:
        return CityRates(0, None, None, None, None)
    return CityRates(counts.assessed, float(r), float(s), float(t), float(composite))


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
    trend = [(m, volumes.get(m) if volumes else None, city_rates(scored.get(m))) for m in months]
    return Figures(
        month=month,
        source=source,
        version=version,
        assessment=current,
        city=city_rates(current),
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


def map_value(name: str, district: UnitScore | None, volume: int | None) -> float | None:
    """A district's colour on the map: its volume, or its own figure in the districts ranking
    (the same UnitScore, so map and ranking can never show two scores for one district)."""
    if name == "volume":
        return None if volume is None else float(volume)
    return None if district is None else unit_metric(name, district)


def unit_metric(name: str, u: UnitScore) -> float | None:
    if name == "volume":
        return float(u.counts.assessed)
    value = {
        "composite": u.composite,
        "response": u.response_rate,
        "resolution": u.resolution_rate,
        "satisfaction": u.satisfaction_rate,
    }.get(name)
    # 100 × the exact fraction, then one rounding: what the ranking's "%.1f" shows.
    return None if value is None else round(float(100 * value), 1)
