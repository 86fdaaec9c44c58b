"""What PostgreSQL is busy with during a load, and the plan of the duplicate window's query.

    .venv/bin/python bench/serve/pg_activity.py [--seconds 45] [--pg URL]

Run it while bench_load.py is loading the same database (default: $JIESU_BENCH_POSTGRES_URL or
jiesu_bench_load). It samples pg_stat_activity every 50 ms and prints the statements most often
seen active (a poor man's profiler: a statement's share of samples is its share of the
backends' busy time), then EXPLAIN ANALYZE of the window's "cases added since" query under the
generic plan that psycopg's prepared statements get after five runs — the old form (no LIMIT)
beside the current one (triage/window.added_since).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import psycopg
import sqlalchemy as sa

DEFAULT_PG = os.environ.get(
    "JIESU_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench_load"
)
ACTIVE = """
SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 110), coalesce(wait_event, 'cpu')
FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
"""
SINCE = "SELECT id, text, street, created_at, status FROM case_record " \
    "WHERE status NOT IN ($1, $2, $3) AND id > $4 ORDER BY id"  # fmt: skip
PLANS = {"old: ORDER BY id": SINCE, "now: ORDER BY id DESC LIMIT 300": SINCE.replace(
    "ORDER BY id", "ORDER BY id DESC LIMIT 300")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args()
    url = sa.engine.make_url(args.pg)
    database = url.database or ""
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        seen: Counter[tuple[str, str]] = Counter()
        samples, end = 0, time.monotonic() + args.seconds
        while time.monotonic() < end:
            seen.update(tuple(r) for r in conn.execute(ACTIVE, (database,)))
            samples += 1
            time.sleep(0.05)
        print(f"{samples} samples of the active backends of {database}:")
        for (query, wait), n in seen.most_common(12):
            print(f"{n:6d}  {wait:10s} {query}")
        top = conn.execute("SELECT coalesce(max(id), 0) - 3 FROM case_record").fetchone()
        since = top[0] if top else 0
        rows = conn.execute("SELECT count(*) FROM case_record").fetchone()
        print(f"\ncase_record: {rows[0] if rows else 0} rows; generic plans, id > {since}:")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for name, sql in PLANS.items():
            conn.execute(f"PREPARE since AS {sql}")
            args_sql = f"'merged', 'terminated', 'answered', {int(since)}"
            plan = conn.execute(f"EXPLAIN ANALYZE EXECUTE since({args_sql})").fetchall()
            conn.execute("DEALLOCATE since")
            print(f"\n{name}")
            for (line,) in plan:
                print("   ", line)


if __name__ == "__main__":
    main()
