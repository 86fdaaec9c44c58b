"""NYC 311 import throughput: N synthetic rows in the real NYC schema, on SQLite and PostgreSQL.

Rows are sampled from the real files in ../shared/data/nyc311 and perturbed (a fresh Unique
Key, dates shifted by a random number of days, coordinates jittered), so the mix of agencies,
complaint types, statuses and empty fields is the real one. Each run imports into a fresh,
migrated database, re-imports the same file (which must add nothing), checks every case
against its last event and runs `jiesu audit verify`'s check over the imported chains.

The machine is shared, so beside wall time the table gives the CPU seconds the import used:
this process, plus on PostgreSQL its server backend (read from /proc: a local server only).

    .venv/bin/python bench/intake/bench_import.py [--rows 100000] [--pg URL | --pg '']

The PostgreSQL database (dropped and re-created!) is --pg, else $JIESU_BENCH_POSTGRES_URL,
else jiesu_test_imp_bench on 127.0.0.1.

Writes bench/intake/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from machine import describe
from tests.databases import migrate_and_seed, recreate_pg

from jiesu.audit.verify import verify
from jiesu.clock import FixedClock
from jiesu.db import make_engine, make_session_factory
from jiesu.importers.nyc311 import import_nyc311
from jiesu.uow import UnitOfWork

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "nyc311"
FMT = "%m/%d/%Y %I:%M:%S %p"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_test_imp_bench"


def synthesise(rows: int, out: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    real: list[dict[str, str]] = []
    header: list[str] = []
    for f in sorted(DATA.glob("*.csv")):
        with f.open(encoding="utf-8", newline="") as h:
            reader = csv.DictReader(h)
            header = list(reader.fieldnames or [])
            real += [r for r in reader if r["Unique Key"].isdigit()]
    with out.open("w", encoding="utf-8", newline="") as h:
        writer = csv.DictWriter(h, fieldnames=header)
        writer.writeheader()
        for i in range(rows):
            row = dict(rng.choice(real))
            row["Unique Key"] = str(90_000_000 + i)
            shift = timedelta(days=rng.randint(0, 3000), seconds=rng.randint(0, 86_399))
            for col in ("Created Date", "Closed Date"):
                if row[col]:
                    t = datetime.strptime(row[col], FMT) + shift
                    row[col] = t.strftime(FMT)
            for col in ("Latitude", "Longitude"):
                if row[col]:
                    row[col] = f"{float(row[col]) + rng.uniform(-0.01, 0.01):.8f}"
            writer.writerow(row)


def _backend_cpu(uow: UnitOfWork) -> Path | None:
    """/proc stat file of this session's PostgreSQL backend, when the server is local."""
    if uow.session.get_bind().dialect.name != "postgresql":
        return None
    pid = uow.session.scalar(sa.text("SELECT pg_backend_pid()"))
    stat = Path(f"/proc/{pid}/stat")
    return stat if stat.exists() else None


def _cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run(url: str, path: Path) -> dict[str, float]:
    migrate_and_seed(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = FixedClock(datetime(2026, 11, 22, tzinfo=UTC))
    out: dict[str, float] = {"load": os.getloadavg()[0]}
    with UnitOfWork(factory) as uow:
        backend = _backend_cpu(uow)
        server = _cpu_seconds(backend) if backend else 0.0
        start, cpu = time.perf_counter(), time.process_time()
        report = import_nyc311(uow, clock, path)
        out["first"] = time.perf_counter() - start
        out["client_cpu"] = time.process_time() - cpu
        out["server_cpu"] = _cpu_seconds(backend) - server if backend else float("nan")
    out["imported"] = report.imported
    out["bad"] = len(report.bad)
    with UnitOfWork(factory) as uow:
        start = time.perf_counter()
        again = import_nyc311(uow, clock, path)
        out["again"] = time.perf_counter() - start
    out["again_imported"] = again.imported
    with engine.connect() as conn:
        out["events"] = conn.scalar(sa.text("SELECT count(*) FROM case_event")) or 0
        # Consistency: every case's status is the to_status of its last event.
        out["inconsistent"] = (
            conn.scalar(
                sa.text(
                    "SELECT count(*) FROM case_record c WHERE c.status <> (SELECT e.to_status "
                    "FROM case_event e WHERE e.case_id = c.id ORDER BY e.id DESC LIMIT 1)"
                )
            )
            or 0
        )
        chains = verify(conn)
    out["verified"] = chains.cases if chains.ok else -len(chains.problems)
    engine.dispose()
    return out


def _cpu(r: dict[str, float]) -> str:
    if r["server_cpu"] != r["server_cpu"]:  # NaN: SQLite, or a server this process cannot see
        return f"{r['client_cpu']:.1f} s"
    total = r["client_cpu"] + r["server_cpu"]
    return f"{total:.1f} s ({r['client_cpu']:.1f} + {r['server_cpu']:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--pg",
        default=os.environ.get("JIESU_BENCH_POSTGRES_URL", PG_DEFAULT),
        help="PostgreSQL URL, dropped and re-created ('' to skip)",
    )
    args = parser.parse_args()
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "nyc311_synthetic.csv"
        synthesise(args.rows, csv_path)
        results.append(("SQLite (file, WAL)", run(f"sqlite:///{tmp}/bench.db", csv_path)))
        if args.pg:
            try:
                recreate_pg(args.pg)
            except sa.exc.OperationalError as exc:
                print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
            else:
                results.append(("PostgreSQL", run(args.pg, csv_path)))
    lines = [
        "# Import of NYC 311 history (`jiesu import nyc311`)",
        "",
        f"{args.rows:,} synthetic rows in the real NYC schema (sampled from ../shared/data/nyc311,"
        " fresh keys, shifted dates), into a fresh migrated database; then the same file again.",
        f"Machine: {describe()}, shared with other jobs (load average when each import"
        " started in the table). Command: `.venv/bin/python bench/intake/bench_import.py`.",
        "",
        "CPU = seconds of CPU the first import used: this process, plus on PostgreSQL the"
        " server backend (client + server). Audit verify = cases whose chain `jiesu audit"
        " verify`'s check passed (a negative number counts problems).",
        "",
        "| database | load | rows imported | bad rows | events written | first import "
        "| CPU | rows/s | re-import (adds) | inconsistent cases | audit verify |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results:
        lines.append(
            f"| {name} | {r['load']:.1f} | {r['imported']:,.0f} | {r['bad']:,.0f} "
            f"| {r['events']:,.0f} | {r['first']:.1f} s | {_cpu(r)} "
            f"| {r['imported'] / r['first']:,.0f} | {r['again']:.1f} s ({r['again_imported']:.0f}) "
            f"| {r['inconsistent']:.0f} | {r['verified']:,.0f} |"
        )
    lines += ["", "Target (issue 4): 100k rows in under a minute on this machine.", ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
