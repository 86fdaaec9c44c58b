"""Monthly assessment over a generated lake vs a hand-written DuckDB GROUP BY over the same
files, side by side; generator throughput; peak memory. Writes bench/analytics/RESULTS.md.

    .venv/bin/python bench/analytics/bench_assess.py --rows 10000000

The generated lake is deleted afterwards (disk space); pass --keep to keep it.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from jiesu.analytics.engines import DuckDBEngine
from jiesu.assessment import service
from jiesu.demo.generate import generate

HAND = """
SELECT month, assessed_unit, COUNT(*) AS n,
       SUM(CASE WHEN resolved = 'yes' THEN 1 ELSE 0 END) AS yes,
       SUM(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS sat
FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'month': VARCHAR}})
WHERE month BETWEEN '{a}' AND '{b}'
GROUP BY month, assessed_unit
"""


def best(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--months", type=int, default=48)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="jiesu-bench-", dir="/tmp"))
    lake = root / "lake"
    t = time.perf_counter()
    totals = generate(args.rows, lake, end=date(2026, 10, 31), months=args.months, seed=1)
    gen = time.perf_counter() - t
    size = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
    engine = DuckDBEngine(lake)
    glob = str(lake / "callbacks" / "month=*" / "*.parquet")
    first = service.shift_month("2026-10", -(args.months - 1))
    lines = []
    for label, a, b in (
        ("one month (2026-10)", "2026-10", "2026-10"),
        (f"all {args.months} months", first, "2026-10"),
    ):
        ours = best(lambda a=a, b=b: service.counts_by_month(engine, a, b))
        hand = best(lambda a=a, b=b: engine.con.sql(HAND.format(glob=glob, a=a, b=b)).fetchall())
        lines.append(f"| {label} | {ours:.3f} | {hand:.3f} | {ours / hand:.2f}× |")
    full = best(lambda: service.live(engine, "2026-10", []), repeat=1)
    engine.close()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    per_s = totals["cases"] / gen
    eta = 1e8 / per_s / 60
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text(
        f"""# Analytics bench

`.venv/bin/python bench/analytics/bench_assess.py --rows {args.rows}` on this machine
(2 cores shared with other work, DuckDB {__import__("duckdb").__version__}).

Generated lake: {totals["cases"]:,} cases, {totals["callbacks"]:,} callbacks,
{totals["exclusions"]:,} exclusions over {args.months} months, {size / 1e9:.2f} GB of Parquet.

| step | figure |
|---|---|
| `jiesu demo generate` | {gen:.1f} s, {per_s:,.0f} cases/s → 100M cases ≈ {eta:.0f} min |
| full monthly assessment (counts + scoring + ranks), one month | {full:.3f} s |
| peak RSS of the whole run | {peak_gb:.2f} GB |

Assessment counts (metric `unit_month_counts`: last callback per case, exclusions, response
window) vs a hand-written GROUP BY over the same callback files (no dedup, no exclusions),
best of 3, seconds:

| scope | assessment | hand GROUP BY | ratio |
|---|---|---|---|
{chr(10).join(lines)}
""",
        encoding="utf-8",
    )
    print(out.read_text(encoding="utf-8"))
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
