"""七有五性: a month's volume and the three assessment rates per livelihood dimension.

Every category carries its dimension (category.livelihood_dimension, inherited from its level-1
parent). Volume counts the month's cases (merged duplicates left out); the rates are taken over
the month's assessed cases by assessment.scoring.rates itself, under the catch-all weights and
factors in force for the month (docs/assessment.md), so they match the cockpit's and the
assessment's figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jiesu.analytics.catalogue import render
from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.lake import check_month, has_table, table_glob
from jiesu.assessment.scoring import ANY_KIND, Policy, UnitCounts, policy_for, rates
from jiesu.errors import NotFound
from jiesu.units.catalog import LIVELIHOOD_ORDER

UNMAPPED = "未归类"
DIMENSIONS = LIVELIHOOD_ORDER


def dimension_of(category: str | None, dimensions: Mapping[str, str]) -> str:
    """The dimension of a category code, walking up its prefix (a level-3 code 010101 falls back
    to 0101, then 01) as the taxonomy's codes nest."""
    code = category or ""
    while code:
        dim = dimensions.get(code)
        if dim:
            return dim
        code = code[:-2]
    return UNMAPPED


def livelihood_month(
    lake: Path, month: str, dimensions: Mapping[str, str], policies: Sequence[Policy] = ()
) -> dict[str, Any]:
    check_month(month)
    if not has_table(lake, "cases"):
        raise NotFound("the analytics lake is empty; run `jiesu analytics refresh`")
    engine = DuckDBEngine(lake)
    try:
        glob = table_glob(lake, "cases").replace("'", "''")
        volume = engine.query(
            f"""SELECT category, count(*) AS cases
                FROM read_parquet('{glob}', hive_partitioning = true,
                                  hive_types = {{'month': VARCHAR}})
                WHERE month = '{month}' AND master_case_id IS NULL
                GROUP BY category"""
        )
        assessed = engine.query(
            f"""SELECT category, count(*) AS assessed,
                       sum(CASE WHEN responded THEN 1 ELSE 0 END) AS responded,
                       sum(CASE WHEN resolved = 'yes' THEN 1 ELSE 0 END) AS resolved,
                       sum(CASE WHEN resolved = 'partly' THEN 1 ELSE 0 END) AS partly,
                       sum(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied,
                       sum(CASE WHEN satisfaction = 'basically' THEN 1 ELSE 0 END) AS basically
                FROM ({render("assessed_cases", month)}) a GROUP BY category"""
        )
    finally:
        engine.close()
    order = [*DIMENSIONS, UNMAPPED]
    fields = ("assessed", "responded", "resolved", "partly", "satisfied", "basically")
    totals: dict[str, dict[str, int]] = {d: dict.fromkeys(("cases", *fields), 0) for d in order}
    for row in volume:
        totals[dimension_of(row["category"], dimensions)]["cases"] += int(row["cases"])
    for row in assessed:
        t = totals[dimension_of(row["category"], dimensions)]
        for key in fields:
            t[key] += int(row[key] or 0)
    all_cases = sum(t["cases"] for t in totals.values()) or 1
    policy = policy_for(policies, ANY_KIND, month)
    rows = []
    for dim in order:
        t = totals[dim]
        if dim == UNMAPPED and not t["cases"]:
            continue
        n = t["assessed"]
        r = rates(UnitCounts(dim, *(t[k] for k in fields)), policy)
        rows.append(
            {
                "dimension": dim,
                "cases": t["cases"],
                "share": round(t["cases"] / all_cases, 4),
                "assessed": n,
                "response_rate": round(float(r[0]), 4) if n else None,
                "resolution_rate": round(float(r[1]), 4) if n else None,
                "satisfaction_rate": round(float(r[2]), 4) if n else None,
            }
        )
    return {"month": month, "dimensions": rows}
