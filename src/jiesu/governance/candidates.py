"""Monthly-topic candidates (每月一题): level-2 categories ranked as the city picks its topics.

For the month and its 11 predecessors, per level-2 category (first four digits of the code):
- frequency: the month's cases (merged duplicates left out);
- breadth: districts with at least `min_district` cases of it in the month;
- persistence: months of the 12 in which it had at least `min_month` cases;
- repeat: share of the month's cases that came back — reopened by the citizen, or duplicates
  merged into another case. The lake holds no citizen identity (names and phones are never
  exported), so a repeat caller is seen through the case he calls about again;
- resolution and satisfaction over the month's assessed cases, by assessment.scoring.rates under
  the catch-all policy in force for the month.
Each criterion is turned into a percentile rank among the categories (low resolution and
satisfaction rank high) and the score is their weighted sum (WEIGHTS): volume and breadth
matter most, as in the city's own choice of old-building lifts, property fees, bus routes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jiesu.analytics.catalogue import render
from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.lake import check_month
from jiesu.assessment.scoring import ANY_KIND, Policy, UnitCounts, policy_for
from jiesu.assessment.scoring import rates as scored_rates
from jiesu.errors import InvalidInput
from jiesu.governance.spatial import cases_from, shift_month

WEIGHTS = {
    "frequency": 0.30,
    "breadth": 0.20,
    "persistence": 0.15,
    "repeat": 0.10,
    "unresolved": 0.15,
    "unsatisfied": 0.10,
}


def _pct_rank(values: np.ndarray) -> np.ndarray:
    """Percentile rank in [0, 1]; ties share their mean rank."""
    from scipy.stats import rankdata  # type: ignore[import-untyped,unused-ignore]

    if len(values) < 2:
        return np.ones(len(values))
    return np.asarray((rankdata(values) - 1) / (len(values) - 1))


def _rates(a: Mapping[str, Any], policy: Policy) -> tuple[float | None, float | None]:
    """Resolution and satisfaction of assessed counts (None when nothing was assessed)."""
    fields = ("assessed", "responded", "resolved", "partly", "satisfied", "basically")
    counts = UnitCounts("", *(int(a.get(k) or 0) for k in fields))
    if counts.assessed == 0:
        return None, None
    _, resolution, satisfaction, _ = scored_rates(counts, policy)
    return float(resolution), float(satisfaction)


def monthly_candidates(
    lake: Path,
    month: str,
    *,
    top: int = 20,
    min_district: int = 3,
    min_month: int = 10,
    policies: Sequence[Policy] = (),
) -> dict[str, Any]:
    try:
        check_month(month)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    first = shift_month(month, -11)
    cases = cases_from(lake)
    engine = DuckDBEngine(lake)
    try:
        per_month = engine.query(
            f"""SELECT substr(category, 1, 4) AS cat, month, count(*) AS n
                FROM {cases} WHERE month BETWEEN '{first}' AND '{month}'
                  AND master_case_id IS NULL AND length(category) >= 4 GROUP BY ALL"""
        )
        this = engine.query(
            f"""SELECT substr(category, 1, 4) AS cat, district, count(*) AS n,
                       sum(CASE WHEN master_case_id IS NULL AND reopen_count > 0 THEN 1 ELSE 0 END)
                           AS reopened,
                       sum(CASE WHEN master_case_id IS NOT NULL THEN 1 ELSE 0 END) AS merged
                FROM {cases} WHERE month = '{month}' AND length(category) >= 4 GROUP BY ALL"""
        )
        assessed = engine.query(
            f"""SELECT substr(category, 1, 4) AS cat, count(*) AS assessed,
                       sum(CASE WHEN responded THEN 1 ELSE 0 END) AS responded,
                       sum(CASE WHEN resolved = 'yes' THEN 1 ELSE 0 END) AS resolved,
                       sum(CASE WHEN resolved = 'partly' THEN 1 ELSE 0 END) AS partly,
                       sum(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied,
                       sum(CASE WHEN satisfaction = 'basically' THEN 1 ELSE 0 END) AS basically
                FROM ({render("assessed_cases", month)}) a GROUP BY ALL"""
        )
        names = {r["code"]: r["name"] for r in engine.query("SELECT code, name FROM categories")}
    finally:
        engine.close()
    stats: dict[str, dict[str, Any]] = {}
    for r in this:
        st = stats.setdefault(
            r["cat"], {"cases": 0, "calls": 0, "districts": 0, "reopened": 0, "merged": 0}
        )
        kept = int(r["n"]) - int(r["merged"] or 0)
        st["cases"] += kept
        st["calls"] += int(r["n"])
        st["reopened"] += int(r["reopened"] or 0)
        st["merged"] += int(r["merged"] or 0)
        st["districts"] += 1 if r["district"] and kept >= min_district else 0
    if not stats:
        return {"month": month, "categories": 0, "candidates": []}
    months_present: dict[str, int] = {}
    for r in per_month:
        if r["n"] >= min_month:
            months_present[r["cat"]] = months_present.get(r["cat"], 0) + 1
    rates = {r["cat"]: r for r in assessed}
    city = {
        k: sum(int(r[k] or 0) for r in assessed)
        for k in ("assessed", "responded", "resolved", "partly", "satisfied", "basically")
    }
    policy = policy_for(policies, ANY_KIND, month)
    cats = sorted(c for c, st in stats.items() if st["cases"] > 0)
    table = []
    for c in cats:
        st, a = stats[c], rates.get(c) or {}
        n = int(a.get("assessed") or 0)
        resolution, satisfaction = _rates(a, policy)
        table.append(
            {
                "category": c,
                "name": names.get(c, c),
                "parent": names.get(c[:2], c[:2]),
                "cases": st["cases"],
                "districts": st["districts"],
                "months_present": months_present.get(c, 0),
                "repeat_share": round((st["reopened"] + st["merged"]) / max(st["calls"], 1), 4),
                "assessed": n,
                "resolution_rate": None if resolution is None else round(resolution, 4),
                "satisfaction_rate": None if satisfaction is None else round(satisfaction, 4),
            }
        )
    city_res, city_sat = _rates(city, policy)
    # A category nobody has assessed yet counts as the city's average, neither good nor bad.
    res = np.array(
        [
            t["resolution_rate"] if t["resolution_rate"] is not None else (city_res or 1)
            for t in table
        ]
    )
    sat = np.array(
        [
            t["satisfaction_rate"] if t["satisfaction_rate"] is not None else (city_sat or 1)
            for t in table
        ]
    )
    ranks = {
        "frequency": _pct_rank(np.array([t["cases"] for t in table], dtype=float)),
        "breadth": _pct_rank(np.array([t["districts"] for t in table], dtype=float)),
        "persistence": _pct_rank(np.array([t["months_present"] for t in table], dtype=float)),
        "repeat": _pct_rank(np.array([t["repeat_share"] for t in table], dtype=float)),
        "unresolved": _pct_rank(-res),
        "unsatisfied": _pct_rank(-sat),
    }
    score: np.ndarray = np.sum([WEIGHTS[k] * v for k, v in ranks.items()], axis=0)
    volume_rank = {
        t["category"]: i + 1 for i, t in enumerate(sorted(table, key=lambda t: -t["cases"]))
    }
    order = np.argsort(-score, kind="stable")[:top]
    out = []
    for rank, i in enumerate(order, start=1):
        t = table[i]
        t = {"rank": rank, "score": round(float(score[i]) * 100, 1), **t}
        t["evidence"] = _evidence(t, volume_rank[t["category"]], city_res, city_sat)
        out.append(t)
    return {
        "month": month,
        "months": [first, month],
        "categories": len(table),
        "city_resolution_rate": None if city_res is None else round(city_res, 4),
        "city_satisfaction_rate": None if city_sat is None else round(city_sat, 4),
        "weights": WEIGHTS,
        "candidates": out,
    }


def _evidence(
    t: dict[str, Any], volume_rank: int, city_res: float | None, city_sat: float | None
) -> str:
    parts = [
        f"本月{t['cases']}件(第{volume_rank}位)",
        f"涉及{t['districts']}个区",
        f"近12个月中{t['months_present']}个月高发",
        f"重复诉求占{t['repeat_share']:.1%}",
    ]
    if t["resolution_rate"] is not None and city_res is not None:
        parts.append(f"解决率{t['resolution_rate']:.1%}(全市{city_res:.1%})")
    if t["satisfaction_rate"] is not None and city_sat is not None:
        parts.append(f"满意率{t['satisfaction_rate']:.1%}(全市{city_sat:.1%})")
    return "，".join(parts)
