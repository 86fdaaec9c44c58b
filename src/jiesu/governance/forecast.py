"""Weekly volume per level-1 category × district, forecast with intervals, and its backtest.

Series: the lake's cases (merged duplicates left out) counted per city-local Monday week, per
level-1 category (the first two digits of the code) and district. The last week is dropped when
the lake's newest case does not close it, so a half week is never read as a drop.

Methods, all vectorised over every series at once except ETS:
- `snaive`: the same week a year (52 weeks) before; the last week when there is no year yet.
- `snaive_drift` (default): the seasonal naive scaled by the year-over-year level of the last 8
  weeks, (sum of the last 8 + 1) / (the same 8 a year before + 1): it keeps the heating and
  storm seasons and follows growth. Without a year of history, the mean of the last 4 weeks.
- `ets`: statsmodels Holt with a damped trend on log(1 + y), one fit per series; it has no
  yearly season (52-week Holt-Winters is slow and unstable on a few years of weeks).
Intervals are empirical: the spread (1.96 standard deviations) of the method's own log errors
at that horizon over the last 52 forecast origins of the series, never narrower than Poisson
noise. An actual week above the upper bound of the one-week-ahead forecast is a surge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from jiesu.analytics.engines import DuckDBEngine
from jiesu.errors import InvalidInput
from jiesu.governance.spatial import cases_from

METHODS = ("snaive_drift", "snaive", "ets")
SEASON = 52
LEVEL_WEEKS = 8
ERROR_ORIGINS = 52
Z = 1.96


@dataclass
class Series:
    keys: list[tuple[str, str]]  # (level-1 category, district)
    weeks: list[date]  # Mondays, oldest first
    y: np.ndarray  # series × weeks counts
    names: dict[str, str]


def weekly_series(lake: Path, tz: ZoneInfo, *, until: date | None = None) -> Series:
    """Counts per (category level 1, district, week); `until` cuts at that week (its Monday)."""
    engine = DuckDBEngine(lake)
    try:
        # One scan: the counts, and each group's newest case (the last week's completeness).
        rows = engine.query(
            f"""SELECT substr(category, 1, 2) AS cat, district,
                       CAST(date_trunc('week', timezone('{tz.key}', created_at)) AS DATE) AS week,
                       count(*) AS n, max(created_at) AS newest
                FROM {cases_from(lake)}
                WHERE master_case_id IS NULL AND category IS NOT NULL AND district IS NOT NULL
                GROUP BY ALL"""
        )
        names = {
            r["code"]: r["name"]
            for r in engine.query(
                "SELECT code, name FROM categories WHERE level = 1 "
                "UNION ALL SELECT code, name FROM units WHERE kind = 'district'"
            )
        }
    finally:
        engine.close()
    if not rows:
        raise InvalidInput("the lake has no cases with a category and a district")
    last = max(r["week"] for r in rows)
    newest = max(r["newest"] for r in rows).astimezone(tz).date()
    if newest < last + timedelta(days=6):
        last -= timedelta(days=7)  # the newest week is not over yet
    if until is not None:
        last = min(last, until - timedelta(days=until.weekday()))
    first = min(r["week"] for r in rows)
    n_weeks = (last - first).days // 7 + 1
    if n_weeks < 8:
        raise InvalidInput(
            f"forecasts need at least 8 full weeks of history, the lake has {max(n_weeks, 0)}"
        )
    weeks = [first + timedelta(days=7 * i) for i in range(n_weeks)]
    keys = sorted({(r["cat"], r["district"]) for r in rows})
    index = {k: i for i, k in enumerate(keys)}
    y = np.zeros((len(keys), n_weeks))
    for r in rows:
        w = (r["week"] - first).days // 7
        if w < n_weeks:
            y[index[(r["cat"], r["district"])], w] += r["n"]
    return Series(keys, weeks, y, names)


def _seasonal_point(y: np.ndarray, origin: int, h: int, drift: bool) -> np.ndarray:
    """Forecast of week origin + h from data up to `origin` (inclusive), for every series."""
    target = origin + h
    if target - SEASON >= 0 and origin - SEASON - LEVEL_WEEKS + 1 >= 0:
        base = y[:, target - SEASON]
        if not drift:
            return base
        recent = y[:, origin - LEVEL_WEEKS + 1 : origin + 1].sum(axis=1)
        before = y[:, origin - SEASON - LEVEL_WEEKS + 1 : origin - SEASON + 1].sum(axis=1)
        return np.asarray(base * (recent + 1) / (before + 1))
    if not drift:
        return y[:, origin]
    return np.asarray(y[:, max(0, origin - 3) : origin + 1].mean(axis=1))


def _ets_point(y: np.ndarray, origin: int, horizon: int) -> np.ndarray:
    """Damped Holt on log(1 + y) per series; forecasts for h = 1..horizon (series × horizon)."""
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    out = np.zeros((y.shape[0], horizon))
    history = np.log1p(y[:, : origin + 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on flat series
        for i, row in enumerate(history):
            if row.max() == row.min():
                out[i] = np.expm1(row[-1])
                continue
            fit = ExponentialSmoothing(row, trend="add", damped_trend=True).fit()
            out[i] = np.expm1(np.asarray(fit.forecast(horizon)))
    return np.maximum(out, 0.0)


def point_forecasts(y: np.ndarray, origin: int, horizon: int, method: str) -> np.ndarray:
    """series × horizon point forecasts from data up to week index `origin`."""
    if method == "ets":
        return _ets_point(y, origin, horizon)
    drift = method == "snaive_drift"
    return np.stack([_seasonal_point(y, origin, h, drift) for h in range(1, horizon + 1)], axis=1)


def log_error_sd(y: np.ndarray, origin: int, horizon: int, method: str) -> np.ndarray:
    """series × horizon spread of the method's log errors over past origins (empirical).
    ETS borrows the seasonal-drift spread: refitting every series 52 times is too slow."""
    basis = "snaive_drift" if method == "ets" else method
    first = max(0, origin - ERROR_ORIGINS - horizon)
    sd = np.zeros((y.shape[0], horizon))
    for h in range(1, horizon + 1):
        origins = [o for o in range(first, origin - h + 1)]
        if len(origins) < 4:
            sd[:, h - 1] = 0.5  # next to no history: a wide band
            continue
        errs = np.stack(
            [
                np.log1p(y[:, o + h]) - np.log1p(_seasonal_point(y, o, h, basis == "snaive_drift"))
                for o in origins
            ],
            axis=1,
        )
        sd[:, h - 1] = errs.std(axis=1, ddof=1)
    return sd


def with_intervals(point: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Never narrower than Poisson noise on the log scale: a series of 3 a week cannot have a
    # band of ±0.2 cases just because its past happened to be steady.
    width = Z * np.maximum(sd, 1.0 / np.sqrt(point + 1.0))
    lower = np.maximum(np.expm1(np.log1p(point) - width), 0.0)
    upper = np.expm1(np.log1p(point) + width)
    return lower, upper


def check_method(method: str) -> str:
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    return method


def forecast(
    lake: Path,
    tz: ZoneInfo,
    *,
    horizon: int = 8,
    method: str = "snaive_drift",
    category: str | None = None,
    district: str | None = None,
) -> dict[str, Any]:
    """The next `horizon` weeks of every series (or those matching category/district)."""
    check_method(method)
    if not 1 <= horizon <= 12:
        raise InvalidInput(f"horizon must be 1 to 12 weeks, not {horizon}")
    s = weekly_series(lake, tz)
    pick = [
        i
        for i, (c, d) in enumerate(s.keys)
        if (not category or c == category[:2]) and (not district or d == district)
    ]
    if not pick:
        raise InvalidInput(f"no series for category {category!r} and district {district!r}")
    y = s.y[pick]
    origin = y.shape[1] - 1
    point = point_forecasts(y, origin, horizon, method)
    lower, upper = with_intervals(point, log_error_sd(y, origin, horizon, method))
    rows = []
    for j, i in enumerate(pick):
        cat, dist = s.keys[i]
        for h in range(horizon):
            rows.append(
                {
                    "category": cat,
                    "category_name": s.names.get(cat, cat),
                    "district": dist,
                    "district_name": s.names.get(dist, dist),
                    "week": (s.weeks[-1] + timedelta(days=7 * (h + 1))).isoformat(),
                    "forecast": round(float(point[j, h]), 1),
                    "lower": round(float(lower[j, h]), 1),
                    "upper": round(float(upper[j, h]), 1),
                }
            )
    return {
        "method": method,
        "last_week": s.weeks[-1].isoformat(),
        "series": len(pick),
        "interval": "95% empirical",
        "forecasts": rows,
    }
