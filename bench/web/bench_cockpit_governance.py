"""The cockpit's governance panels: what the summary costs to compute (once, by the command)
and what it costs the page (every view) → bench/web/RESULTS.md, section cockpit-governance.

    .venv/bin/python bench/web/bench_cockpit_governance.py --rows 1000000 [--lake DIR] [--runs 11]

Writes a synthetic lake with `jiesu demo generate --rows N` (or reuses --lake), times
`jiesu governance summarise --month 2026-10` section by section (hot topics, surges,
candidates), then times `/cockpit?month=2026-10` in-process with the figure cache warm, with
and without the month's summary file, and the summary reader alone (file cache cleared: the
first view after a new summary; warm: every later view). The page never touches the lake for
the panels, so its cost does not grow with the lake; the command's does.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from jiesu.app import create_app
from jiesu.demo.build import build_demo
from jiesu.governance import summary
from jiesu.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from bench_cockpit import login
from machine import describe
from results import write_section

JIESU = Path(sys.executable).with_name("jiesu")
MONTH = "2026-10"  # the generator's last month (its default --end is 2026-10-31)
TZ = ZoneInfo("Asia/Shanghai")


def timed_ms(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--lake", type=Path, default=None, help="reuse this lake (kept afterwards)")
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jiesu-gov-"))
    lake = args.lake or tmp / "lake"
    try:
        if args.lake is None:
            subprocess.run(
                [str(JIESU), "demo", "generate", "--rows", str(args.rows), "--out", str(lake)],
                check=True,
            )
        size = sum(f.stat().st_size for f in lake.rglob("*.parquet"))
        t0 = time.perf_counter()
        body = summary.summarise(lake, MONTH, TZ, datetime.now(UTC))
        total = time.perf_counter() - t0
        path = summary.write_summary(lake, body)
        kib = path.stat().st_size / 1024
        url = f"sqlite:///{tmp}/bench.db"
        build_demo(url, cases=200, days=30, seed=1)
        app = create_app(Settings(database_url=url, lake_dir=str(lake)))
        page = f"/cockpit?month={MONTH}"
        with TestClient(app) as client:
            login(client, "leader")
            client.get(page)  # the figure cache is warm from here on: only the panels differ

            def view() -> None:
                assert client.get(page).status_code == 200

            with_summary = timed_ms(view, args.runs)
            hidden = path.with_name("hidden.json")
            path.rename(hidden)
            without = timed_ms(view, args.runs)
            hidden.rename(path)

            def cold_read() -> None:
                summary._cache.clear()
                summary.read_summary(lake, MONTH)

            cold = timed_ms(cold_read, args.runs)
            warm = timed_ms(lambda: summary.read_summary(lake, MONTH), args.runs)
        app.state.engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sections = body["seconds"]
    counts = {
        n: (body[n]["error"] if "error" in body[n] else f"{len(body[n]['items'])} items")
        for n in summary.SECTIONS
    }
    lines = [
        "## Cockpit governance panels: summary computed once, read per view",
        "",
        f"Lake: `jiesu demo generate --rows {args.rows:,}` ({size / 2**30:.2f} GiB of Parquet; "
        f"{body['topics'].get('messages', 0):,} messages in {MONTH}). {describe()}; the machine "
        f"was shared with other engineers' jobs. {args.runs} runs per page figure.",
        "",
        f"Reproduce: `.venv/bin/python bench/web/bench_cockpit_governance.py --rows {args.rows} "
        f"--runs {args.runs}`",
        "",
        "| `jiesu governance summarise --month 2026-10` | seconds | result |",
        "|---|---:|---|",
        *[f"| {n} | {sections[n]:.1f} | {counts[n]} |" for n in summary.SECTIONS],
        f"| total (file {kib:.0f} KiB) | {total:.1f} | |",
        "",
        "| per page view | median ms | max ms |",
        "|---|---:|---:|",
        f"| `{page}` with the summary (figures warm) | {statistics.median(with_summary):.1f} "
        f"| {max(with_summary):.1f} |",
        f'| `{page}` without it ("not computed yet") | {statistics.median(without):.1f} '
        f"| {max(without):.1f} |",
        f"| `read_summary`, file cache cleared | {statistics.median(cold):.2f} | {max(cold):.2f} |",
        f"| `read_summary`, cached | {statistics.median(warm):.3f} | {max(warm):.3f} |",
    ]
    write_section("cockpit-governance", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
