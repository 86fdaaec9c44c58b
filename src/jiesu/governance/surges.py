"""Surge alerts (volume above its forecast interval) and the forecast backtest.

A surge is a week whose actual volume for a level-1 category × district is above the upper
bound of the one-week-ahead forecast made from the weeks before it (governance/forecast.py).
Small series are left out (fewer than `min_cases` in the week): a jump from 1 to 4 calls is
noise to a leader, whatever its p-value.

The backtest rolls the forecast origin over the last `origins` weeks, forecasts 1..horizon
weeks ahead from each, and scores every method against the seasonal-naive baseline:
MASE = mean |actual − forecast| / mean |y[t] − y[t−52]| over the training weeks (lag 1 when
there is no year of history); sMAPE = mean 200·|a − f| / (|a| + |f|), weeks where both are 0
left out. Coverage is the share of actual weeks inside the 95% interval.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from jiesu.errors import InvalidInput
from jiesu.governance.forecast import (
    METHODS,
    SEASON,
    Series,
    check_method,
    log_error_sd,
    point_forecasts,
    weekly_series,
    with_intervals,
)

MIN_CASES = 10


def alerts_at(
    s: Series, week_index: int, method: str, min_cases: int = MIN_CASES
) -> list[dict[str, Any]]:
    """Series whose week `week_index` left its one-week-ahead interval upwards."""
    y = s.y
    origin = week_index - 1
    point2 = point_forecasts(y, origin, 1, method)
    lower, upper = with_intervals(point2, log_error_sd(y, origin, 1, method))
    point = point2[:, 0]
    actual = y[:, week_index]
    hits = np.nonzero((actual > upper[:, 0]) & (actual >= min_cases))[0]
    rows: list[dict[str, Any]] = []
    for i in hits:
        cat, dist = s.keys[i]
        rows.append(
            {
                "category": cat,
                "category_name": s.names.get(cat, cat),
                "district": dist,
                "district_name": s.names.get(dist, dist),
                "week": s.weeks[week_index].isoformat(),
                "actual": int(actual[i]),
                "forecast": round(float(point[i]), 1),
                "lower": round(float(lower[i, 0]), 1),
                "upper": round(float(upper[i, 0]), 1),
                "ratio": round(float(actual[i] / max(point[i], 1.0)), 2),
            }
        )
    rows.sort(key=lambda r: -r["actual"] / max(r["upper"], 1.0))
    return rows


def surges(
    lake: Path,
    tz: ZoneInfo,
    *,
    week: date | None = None,
    method: str = "snaive_drift",
    min_cases: int = MIN_CASES,
) -> dict[str, Any]:
    """突增预警: the alerts of the latest complete week, or of the week holding `week`."""
    check_method(method)
    s = weekly_series(lake, tz, until=week)
    if week is not None and s.weeks[-1] != week - timedelta(days=week.weekday()):
        raise InvalidInput(f"the lake has no complete week holding {week.isoformat()}")
    alerts = alerts_at(s, len(s.weeks) - 1, method, min_cases)
    return {
        "week": s.weeks[-1].isoformat(),
        "method": method,
        "series": len(s.keys),
        "min_cases": min_cases,
        "surges": alerts,
    }


def _scale(y: np.ndarray, until: int) -> np.ndarray:
    lag = SEASON if until > SEASON + 4 else 1
    diffs = np.abs(y[:, lag:until] - y[:, : until - lag])
    return np.asarray(np.maximum(diffs.mean(axis=1), 1e-9))


def backtest(
    lake: Path,
    tz: ZoneInfo,
    *,
    horizon: int = 8,
    origins: int = 12,
    methods: tuple[str, ...] = ("snaive", "snaive_drift"),
    min_mean: float = 5.0,
) -> dict[str, Any]:
    """MASE, sMAPE and 95% coverage per method over rolling origins, series with a mean of at
    least `min_mean` cases a week (tiny series make every percentage meaningless)."""
    for m in methods:
        check_method(m)
    if not 1 <= horizon <= 12 or not 1 <= origins <= 104:
        raise InvalidInput("horizon must be 1 to 12 weeks and origins 1 to 104")
    s = weekly_series(lake, tz)
    n = s.y.shape[1]
    first = n - horizon - origins
    if first < 8:
        raise InvalidInput(f"{n} weeks are too few for {origins} origins of {horizon} weeks")
    y = s.y[s.y[:, :first].mean(axis=1) >= min_mean]
    if not len(y):
        raise InvalidInput(f"no series has a mean of {min_mean} cases a week")
    scale = _scale(y, first)
    rows: list[dict[str, Any]] = []
    for method in methods:
        abs_err, smape, inside = [], [], []
        for origin in range(first - 1, first - 1 + origins):
            point = point_forecasts(y, origin, horizon, method)
            lower, upper = with_intervals(point, log_error_sd(y, origin, horizon, method))
            actual = y[:, origin + 1 : origin + 1 + horizon]
            abs_err.append(np.abs(actual - point) / scale[:, None])
            denom = np.abs(actual) + np.abs(point)
            smape.append(
                np.where(
                    denom > 0, 200 * np.abs(actual - point) / np.where(denom > 0, denom, 1), np.nan
                )
            )
            inside.append((actual >= lower) & (actual <= upper))
        rows.append(
            {
                "method": method,
                "mase": round(float(np.mean(abs_err)), 3),
                "smape": round(float(np.nanmean(smape)), 2),
                "coverage": round(float(np.mean(inside)), 3),
            }
        )
    base = next((r for r in rows if r["method"] == "snaive"), None)
    for r in rows:
        r["mase_vs_snaive"] = round(r["mase"] / base["mase"], 3) if base else None
    return {
        "series": len(y),
        "weeks": n,
        "horizon": horizon,
        "origins": origins,
        "last_week": s.weeks[-1].isoformat(),
        "methods": rows,
        "known_methods": list(METHODS),
    }
