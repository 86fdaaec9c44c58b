"""How big the registrar's groups are under HTTP load, and where the workers' CPU goes.

    .venv/bin/python bench/serve/groups.py [--connections 16] [--workers 2] [--seconds 20]
        [--spy FILE] [--statements]

Starts `jiesu serve` on a fresh PostgreSQL database with bench_load.py's live model, runs wrk
with bench_load.py's registrations (no lifecycle loop) for a warm-up of 8 s and then
`--seconds`, and prints registrations/s, latency, registrations per committed transaction
(PostgreSQL's xact_commit: an upper bound on the group count, so a lower bound on the group
size) and the CPU per registration of the server's processes and of PostgreSQL's backends
(bench_load.py's meter; on this shared machine it moves with the machine's speed too). With
`--statements`, PostgreSQL's statements of the counted run by execution time
(pg_stat_statements, which must be in shared_preload_libraries). With `--spy FILE`, py-spy
samples the server's processes for the counted run (spy.py), writes the stacks to FILE and
prints each part's share. Short runs on a shared machine differ by ±15 % between identical
code: compare settings in alternating runs, and use bench_load.py's 300 s for figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from bench_load import BODIES, registration, train_model, wrk  # noqa: E402
from cpu import CpuMeter  # noqa: E402
from spy import record, summarise  # noqa: E402
from tests.databases import migrate_and_seed, recreate_pg  # noqa: E402
from tests.serverproc import Server  # noqa: E402

from jiesu.clock import SystemClock  # noqa: E402
from jiesu.triage.model_store import FORMAT  # noqa: E402

PG = os.environ.get(
    "JIESU_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench_load"
)


def commits(engine: sa.Engine, database: str) -> int:
    with engine.connect() as conn:
        n = conn.scalar(
            sa.text("SELECT xact_commit FROM pg_stat_database WHERE datname = :d"), {"d": database}
        )
    return int(n or 0)


def reset_statements(engine: sa.Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.exec_driver_sql("SELECT pg_stat_statements_reset()")
            conn.commit()
    except sa.exc.DBAPIError as exc:
        raise SystemExit(
            "--statements needs shared_preload_libraries = 'pg_stat_statements' "
            f"(ALTER SYSTEM SET …, then restart PostgreSQL): {exc.orig}"
        ) from exc


def statements(engine: sa.Engine, database: str) -> str:
    """The counted run's statements, most execution time first: calls, ms per call, rows."""
    query = sa.text(
        "SELECT calls, total_exec_time / calls, rows, regexp_replace(query, '\\s+', ' ', 'g') "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = :d) "
        "ORDER BY total_exec_time DESC LIMIT 12"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"d": database}).all()
    return "\n".join(f"{c:>7} calls {ms:7.3f} ms {r:>7} rows  {q[:110]}" for c, ms, r, q in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--spy", type=Path)
    parser.add_argument(
        "--statements",
        action="store_true",
        help="print PostgreSQL's statements by execution time (pg_stat_statements must be in "
        "shared_preload_libraries)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does)")
    os.environ["JIESU_MODEL_DIR"] = str(train_model(ROOT / "var" / "bench" / f"model-{FORMAT}"))
    recreate_pg(PG)
    migrate_and_seed(PG, users_at=SystemClock().now())
    database = sa.engine.make_url(PG).database or ""
    engine = sa.create_engine(PG)
    if args.statements:
        reset_statements(engine)  # fails at once if PostgreSQL does not keep statistics
    server = Server(PG, workers=args.workers)
    server.start()
    assert server.proc is not None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bodies = Path(tmp) / "bodies.jsonl"
            with bodies.open("w", encoding="utf-8") as f:
                for i in range(BODIES):
                    f.write(json.dumps(registration(i)[1], ensure_ascii=False) + "\n")
            env = {**os.environ, "JIESU_TOKEN": server.token("agent"), "JIESU_BODIES": str(bodies)}
            wrk(server.base, 8, args.connections, "warm", env)
            # The statistics autovacuum gathers within its first minute (a 300 s run has them):
            # without them PostgreSQL plans the new tables as nearly empty.
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
            spy = record(server.proc.pid, args.seconds, args.spy) if args.spy else None
            if args.statements:
                reset_statements(engine)
            before = commits(engine, database)
            meter = CpuMeter(PG, server.proc.pid)
            meter.start()
            summary = wrk(server.base, args.seconds, args.connections, "run", env)
            server_cpu, pg_cpu, machine_cpu = meter.stop()
            after = commits(engine, database)
            if spy is not None:
                spy.wait()
    finally:
        server.kill()
    done = summary["requests"]
    lat = summary["latency_us"]
    print(
        f"workers {args.workers}, connections {args.connections}: {done / args.seconds:.1f} "
        f"registrations/s, p50 {lat['p50'] / 1000:.0f} ms, p99 {lat['p99'] / 1000:.0f} ms, "
        f"codes {summary['codes']}, {done / max(1, after - before):.2f} registrations per commit"
    )
    per = 1000 / max(1, done)
    print(
        f"CPU per registration: server {server_cpu * per:.2f} ms, PostgreSQL {pg_cpu * per:.2f} "
        f"ms; cores busy, whole machine: {machine_cpu / args.seconds:.2f}"
    )
    if args.spy:
        print(summarise(args.spy))
    if args.statements:
        print(statements(engine, database))
    engine.dispose()


if __name__ == "__main__":
    main()
