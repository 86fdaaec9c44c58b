"""The lake's assessed table: what the monthly assessment counts, fixed at export.

Per month, each case's last callback of the month with its assessed unit, response flag and
exclusion flag (metric assessed_rows, its definition in words in the SQL file). Picking the last
callback and joining the exclusions is the costly part of the assessment; doing it here, once
per changed month, leaves the assessment a single scan-and-group however often it is asked.

A month is rebuilt whole from its callback parts and the exclusions (about a second for a month
of a 100M-case lake), never patched, so a rebuild is idempotent and repairs itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from jiesu.analytics.catalogue import render
from jiesu.analytics.lake import SCHEMAS, check_month, write_atomic

DATA_FILE = "data.parquet"


def month_dir(lake: Path, month: str) -> Path:
    return lake / "assessed" / f"month={check_month(month)}"


def callback_months(lake: Path) -> list[str]:
    root = lake / "callbacks"
    if not root.exists():
        return []
    return sorted(p.name.removeprefix("month=") for p in root.glob("month=*") if p.is_dir())


def build_assessed(lake: Path, months: Iterable[str], *, threads: int | None = None) -> int:
    """Rebuild the assessed rows of the given months; returns the rows written."""
    from jiesu.analytics.engines import DuckDBEngine

    todo = sorted(set(months))
    if not todo:
        return 0
    engine = DuckDBEngine(lake, threads=threads)
    schema = SCHEMAS["assessed"]
    written = 0
    try:
        for month in todo:
            table = engine.arrow(render("assessed_rows", month)).drop_columns(["month"])
            # The table's own order and types, whatever the engine inferred.
            table = table.select(schema.names).cast(schema).sort_by("case_id")
            target = month_dir(lake, month)
            write_atomic(table, target / DATA_FILE)
            for stale in target.glob("*.parquet"):
                if stale.name != DATA_FILE:
                    stale.unlink()
            written += table.num_rows
    finally:
        engine.close()
    return written
