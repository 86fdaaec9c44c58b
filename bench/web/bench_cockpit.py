"""The leader cockpit's server time over a big analytics lake → bench/web/RESULTS.md.

    .venv/bin/python bench/web/bench_cockpit.py --rows 10000000 [--lake DIR] [--runs 7]

Writes a synthetic lake with `jiesu demo generate --rows N` (or reuses --lake), builds a small
demo database for the logins, and times `/cockpit` and its district drill-down in-process:
"cold" clears the cockpit's figure cache before every request (the first view of a month
after a lake refresh), "warm" is every later view. The lake is deleted afterwards unless it
was given with --lake.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from jiesu.app import create_app
from jiesu.demo.build import build_demo
from jiesu.settings import Settings
from jiesu.web.pages import cockpit_summary

sys.path.insert(0, str(Path(__file__).parent))
from results import write_section

JIESU = Path(sys.executable).with_name("jiesu")
MONTH = "2026-10"  # the generator's last month (its default --end is 2026-10-31)


def login(client: TestClient, username: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post(
        "/login",
        data={"username": username, "password": "jiesu-demo", "csrf_token": token.group(1)},
    )


def timed(client: TestClient, path: str, runs: int, cold: bool) -> list[float]:
    out = []
    for _ in range(runs):
        if cold:
            cockpit_summary._cache.clear()
        t = time.perf_counter()
        resp = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, (path, resp.status_code)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--lake", type=Path, default=None, help="reuse this lake (kept afterwards)")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jiesu-cockpit-"))
    lake = args.lake or tmp / "lake"
    generated = ""
    try:
        if args.lake is None:
            t0 = time.perf_counter()
            subprocess.run(
                [str(JIESU), "demo", "generate", "--rows", str(args.rows), "--out", str(lake)],
                check=True,
            )
            generated = f", generated in {time.perf_counter() - t0:.0f} s"
        else:  # a given lake says itself how many cases it holds
            import duckdb

            glob = str(lake / "cases" / "month=*" / "*.parquet")
            args.rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()[0][0]
        size = sum(f.stat().st_size for f in lake.rglob("*") if f.is_file())
        url = f"sqlite:///{tmp}/bench.db"
        build_demo(url, cases=200, days=30, seed=1)
        app = create_app(Settings(database_url=url, lake_dir=str(lake)))
        rows = []
        with TestClient(app) as client:
            login(client, "leader")
            for path in (f"/cockpit?month={MONTH}", f"/cockpit/district/110105?month={MONTH}"):
                for cold in (True, False):
                    times = timed(client, path, args.runs, cold)
                    label = "cold (cache cleared)" if cold else "warm"
                    rows.append((path, label, statistics.median(times), max(times)))
        app.state.engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cpus = os.cpu_count()
    lines = [
        "## Cockpit over a big lake",
        "",
        f"Lake: `jiesu demo generate --rows {args.rows:,}` ({size / 2**30:.2f} GiB of Parquet"
        f"{generated}); month {MONTH}, live (not frozen), so every figure is scored from the "
        f"lake's unit × month counts and monthly volume by DuckDB. {cpus} cores. "
        f"{args.runs} runs each. Goal: < 1 s.",
        "",
        f"Reproduce: `.venv/bin/python bench/web/bench_cockpit.py --rows {args.rows} "
        f"--runs {args.runs}`",
        "",
        "| page | cache | median ms | max ms |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| `{p}` | {c} | {m:.0f} | {x:.0f} |" for p, c, m, x in rows]
    write_section("cockpit", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
