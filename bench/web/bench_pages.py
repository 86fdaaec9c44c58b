"""Server time of each console page on the demo city (median of runs) → bench/web/RESULTS.md.

    .venv/bin/python bench/web/bench_pages.py [--cases 2000] [--runs 15]

Measured in-process with Starlette's TestClient (no network, no browser): what the server
spends building the page, which is what the < 300 ms goal is about.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from jiesu.app import create_app
from jiesu.demo.build import build_demo
from jiesu.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
from results import write_section

PAGES = [
    ("agent", "/agent"),
    ("dispatcher", "/dispatcher"),
    ("dispatcher", "/dispatcher?queue=overdue"),
    ("unit-110101001", "/unit"),
    ("callback", "/callback"),
    ("leader", "/cockpit"),
    ("leader", "/cockpit/district/110105"),
    ("admin", "/admin?list=users"),
    (None, "/citizen"),
    (None, "/login"),
]


def login(client: TestClient, username: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post(
        "/login",
        data={"username": username, "password": "jiesu-demo", "csrf_token": token.group(1)},
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        t0 = time.perf_counter()
        build_demo(url, cases=args.cases, days=args.days, seed=1)
        built = time.perf_counter() - t0
        app = create_app(Settings(database_url=url))
        rows = []
        with TestClient(app) as client:
            for user, path in PAGES:
                client.cookies.clear()
                if user:
                    login(client, user)
                client.get(path)  # warm the template cache
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    resp = client.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    assert resp.status_code == 200, (path, resp.status_code)
                rows.append((path, user or "(none)", statistics.median(times), max(times)))
        app.state.engine.dispose()
    lines = [
        "# Console page server time",
        "",
        f"Demo city: {args.cases} cases over {args.days} days (SQLite, built in {built:.0f} s); "
        f"{args.runs} runs per page, in-process TestClient. Goal: < 300 ms per page.",
        "",
        "Reproduce: `.venv/bin/python bench/web/bench_pages.py "
        f"--cases {args.cases} --days {args.days} --runs {args.runs}`",
        "",
        "| page | login | median ms | max ms |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| `{p}` | {u} | {m:.1f} | {x:.1f} |" for p, u, m, x in rows]
    write_section("pages", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
