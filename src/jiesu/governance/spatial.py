"""Spatial hotspots: H3 cells and streets whose volume in a month is significantly above their
own baseline.

For every area (an H3 cell, or a street) the expected volume of the month is its share of the
category over the trailing months (6 by default) times the month's city-wide volume of the
category, so a season or growth that lifts every area is not a hotspot. The month's count is tested
one-sided against that expectation: Poisson when the areas' month-to-month counts are not
overdispersed, otherwise negative binomial with one dispersion estimated over all areas by the
method of moments (var = μ + α·μ²). The p-values of every area with a case in the month or its
baseline form one family, controlled by Benjamini–Hochberg at q (0.05): with a few hundred
streets, testing each at 5% would flag a dozen by chance every month.

Coordinates are used as stored (the generator draws them in the GCJ-02 frame of the shipped
boundaries; cases registered with GPS coordinates keep WGS-84). The baseline and the month use
the same frame, so the test is unaffected; a cell drawn on a WGS-84 map may sit ~500 m off.
Points are grouped on a 0.001° grid (~100 m) inside DuckDB before the H3 lookup, so a month of
millions of cases needs only tens of thousands of lookups; a point within ~50 m of a cell
edge may land in the neighbouring cell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.lake import check_month, has_table, table_glob
from jiesu.errors import InvalidInput, NotFound
from jiesu.inputs import digits

LEVELS = ("h3", "street")
RESOLUTIONS = (7, 8)
GRID = 1000  # points per degree of the pre-aggregation grid
# Pooled dispersion above this (α) switches the test from Poisson to negative binomial.
MIN_ALPHA = 0.02
PRIOR = 0.5  # pseudo-count: a new area with no baseline still has a finite expectation


def shift_month(month: str, by: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def cases_from(lake: Path) -> str:
    """The lake's cases as a DuckDB table expression (merged duplicates are left to callers)."""
    if not has_table(lake, "cases"):
        raise NotFound("the analytics lake is empty; run `jiesu analytics refresh`")
    glob = table_glob(lake, "cases").replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = true, hive_types = {{'month': VARCHAR}})"


def check_prefix(prefix: str | None) -> str:
    if prefix is None or prefix == "":
        return ""
    if digits(prefix) != prefix or len(prefix) > 12:
        raise InvalidInput(
            f"category must be a code prefix of digits such as 17 or 1704, not {prefix!r}"
        )
    return prefix


def bh_qvalues(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    arr = np.asarray(p, dtype=float)
    n = len(arr)
    if n == 0:
        return arr
    order = np.argsort(arr)
    ranked = arr[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(ranked, 1.0)
    return out


def dispersion(history: np.ndarray) -> float:
    """Pooled α of var = μ + α·μ² over the areas' baseline months (rows = areas)."""
    mu = history.mean(axis=1)
    keep = mu >= 1.0  # near-empty areas say nothing about overdispersion
    if keep.sum() < 3 or history.shape[1] < 2:
        return 0.0
    var = history[keep].var(axis=1, ddof=1)
    excess = (var - mu[keep]).sum() / (mu[keep] ** 2).sum()
    return float(max(0.0, excess))


def excess_pvalues(observed: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    from scipy import stats  # type: ignore[import-untyped,unused-ignore]

    k = observed - 1  # P(X ≥ observed) = sf(observed − 1)
    if alpha < MIN_ALPHA:
        return np.asarray(stats.poisson.sf(k, expected), dtype=float)
    size = 1.0 / alpha
    return np.asarray(stats.nbinom.sf(k, size, size / (size + expected)), dtype=float)


@dataclass(frozen=True)
class Area:
    key: str
    name: str
    district: str
    lat: float | None
    lon: float | None


def _counts(
    lake: Path, month: str, prefix: str, level: str, resolution: int, baseline: int
) -> tuple[dict[str, np.ndarray], dict[str, Area]]:
    """Per area: counts of the baseline months then the month (last column)."""
    months = [shift_month(month, -i) for i in range(baseline, -1, -1)]
    where = f"month BETWEEN '{months[0]}' AND '{month}' AND master_case_id IS NULL" + (
        f" AND category LIKE '{prefix}%'" if prefix else ""
    )
    engine = DuckDBEngine(lake)
    rows: list[dict[str, Any]] = []
    grid: Any = None
    try:
        names = {
            r["code"]: r["name"]
            for r in engine.query(
                "SELECT code, name FROM units WHERE kind IN ('street', 'district')"
            )
        }
        if level == "street":
            rows = engine.query(
                f"""SELECT month, street AS key, any_value(district) AS district,
                           avg(lat) AS lat, avg(lon) AS lon, count(*) AS n
                    FROM {cases_from(lake)} WHERE {where} AND street IS NOT NULL
                    GROUP BY month, street"""
            )
        else:
            # One row per grid point with a count column per month and the point's street and
            # district (a ~100 m point lies in one street; of a case of the newest month there,
            # as that is the month tested), straight into numpy.
            per_month = ", ".join(
                f"count(*) FILTER (WHERE month = '{m}') AS n{i}" for i, m in enumerate(months)
            )
            grid = engine.arrow(
                f"""SELECT round(lat * {GRID}) AS glat, round(lon * {GRID}) AS glon,
                           arg_max(street, month) AS street, arg_max(district, month) AS district,
                           {per_month}
                    FROM {cases_from(lake)} WHERE {where} AND lat IS NOT NULL AND lon IS NOT NULL
                    GROUP BY glat, glon"""
            )
    finally:
        engine.close()
    col = {m: i for i, m in enumerate(months)}
    counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(months)))
    areas: dict[str, Area] = {}
    if level == "street":
        for r in rows:
            counts[r["key"]][col[r["month"]]] += r["n"]
            areas.setdefault(
                r["key"],
                Area(r["key"], names.get(r["key"], r["key"]), r["district"], r["lat"], r["lon"]),
            )
        return counts, areas
    return _cells(grid, len(months), resolution, names)


def _cells(
    grid: Any, n_months: int, resolution: int, names: dict[str, str]
) -> tuple[dict[str, np.ndarray], dict[str, Area]]:
    """Grid points into H3 cells: counts summed per cell; a cell is named after the street
    of most of its cases in the month tested."""
    import h3  # type: ignore[import-untyped,unused-ignore]

    glat = grid["glat"].to_numpy(zero_copy_only=False) / GRID
    glon = grid["glon"].to_numpy(zero_copy_only=False) / GRID
    matrix = np.column_stack(
        [grid[f"n{i}"].to_numpy(zero_copy_only=False) for i in range(n_months)]
    ).astype(float)
    keys = [h3.latlng_to_cell(a, b, resolution) for a, b in zip(glat, glon, strict=True)]
    cells, inverse = np.unique(np.array(keys), return_inverse=True)
    totals = np.zeros((len(cells), n_months))
    np.add.at(totals, inverse, matrix)
    votes: dict[tuple[int, str, str], float] = defaultdict(float)
    weight = matrix[:, -1] + matrix.sum(axis=1) / 1e6  # the month's cases; ties by all
    for i, street, district, w in zip(
        inverse.tolist(),
        grid["street"].to_pylist(),
        grid["district"].to_pylist(),
        weight.tolist(),
        strict=True,
    ):
        votes[(i, street or "", district or "")] += w
    best: dict[int, tuple[float, str, str]] = {}
    for (i, street, district), w in votes.items():
        if i not in best or w > best[i][0]:
            best[i] = (w, street, district)
    counts: dict[str, np.ndarray] = {}
    areas: dict[str, Area] = {}
    for i, cell in enumerate(cells.tolist()):
        counts[cell] = totals[i]
        _, street, district = best[i]
        lat, lon = h3.cell_to_latlng(cell)
        label = names.get(street, "")
        areas[cell] = Area(cell, f"{label}附近" if label else "", district, lat, lon)
    return counts, areas


def spatial_hotspots(
    lake: Path,
    month: str,
    *,
    category: str | None = None,
    level: str = "h3",
    resolution: int = 8,
    baseline: int = 6,
    q: float = 0.05,
    min_cases: int = 5,
    top: int = 100,
) -> dict[str, Any]:
    """The month's significant hotspots, most significant first, with the test's figures."""
    try:
        check_month(month)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    prefix = check_prefix(category)
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution must be 7 or 8, not {resolution}")
    if not 2 <= baseline <= 24:
        raise InvalidInput(f"baseline must be 2 to 24 months, not {baseline}")
    if not 0 < q < 1:
        raise InvalidInput(f"q must be between 0 and 1, not {q}")
    counts, areas = _counts(lake, month, prefix, level, resolution, baseline)
    keys = sorted(counts)
    body: dict[str, Any] = {
        "month": month,
        "category": prefix or None,
        "level": level,
        "resolution": resolution if level == "h3" else None,
        "baseline_months": [shift_month(month, -baseline), shift_month(month, -1)],
        "q": q,
        "tested": len(keys),
        "hotspots": [],
    }
    if not keys:
        body.update(test="poisson", alpha=0.0)
        return body
    matrix = np.array([counts[k] for k in keys])
    history, observed = matrix[:, :-1], matrix[:, -1]
    # The area's share of the category over its baseline, times the month's city-wide total:
    # seasons (heating, storms) and growth move every area together and are not hotspots.
    share = (history.sum(axis=1) + PRIOR) / (history.sum() + PRIOR * len(keys))
    expected = share * observed.sum()
    alpha = dispersion(history)
    p = excess_pvalues(observed, expected, alpha)
    qv = bh_qvalues(p)
    body.update(test="poisson" if alpha < MIN_ALPHA else "negative_binomial", alpha=round(alpha, 4))
    hits = [
        i
        for i in range(len(keys))
        if qv[i] <= q and observed[i] >= min_cases and observed[i] > expected[i]
    ]
    hits.sort(key=lambda i: (p[i], -observed[i] / expected[i]))
    for i in hits[:top]:
        area = areas[keys[i]]
        body["hotspots"].append(
            {
                "area": area.key,
                "name": area.name,
                "district": area.district,
                "lat": None if area.lat is None else round(area.lat, 5),
                "lon": None if area.lon is None else round(area.lon, 5),
                "observed": int(observed[i]),
                "expected": round(float(expected[i]), 2),
                "ratio": round(float(observed[i] / expected[i]), 2),
                "p": float(f"{p[i]:.3g}"),
                "q": float(f"{qv[i]:.3g}"),
            }
        )
    body["significant"] = len(hits)
    return body
