"""Case lifecycle throughput through the real services, on SQLite and PostgreSQL.

Registers N cases and takes each through dispatch → acknowledge → contact → reply →
callback (6 transactions, 6 event rows per case), timing each step. One process, one core.

    .venv/bin/python bench/lifecycle/bench_lifecycle.py [--cases 300] [--pg URL]

Writes bench/lifecycle/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from machine import describe
from tests.databases import migrate_and_seed, recreate_pg

from jiesu.auth.actor import Actor
from jiesu.cases import schemas as s
from jiesu.cases.registration import register_case
from jiesu.cases.service import act
from jiesu.cases.workflow import Action, Role
from jiesu.clock import FixedClock
from jiesu.db import make_engine, make_session_factory
from jiesu.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
STREET = "110101001"
AGENT = Actor("agent", Role.AGENT)
DISPATCHER = Actor("dispatcher", Role.DISPATCHER)
HANDLER = Actor(f"unit-{STREET}", Role.HANDLER, STREET)
CALLBACK = Actor("callback", Role.CALLBACK)
STEPS: list[tuple[str, Actor, Action, s.ActionIn]] = [
    ("dispatch", DISPATCHER, Action.DISPATCH, s.DispatchIn(lead_unit=STREET)),
    ("acknowledge", HANDLER, Action.ACKNOWLEDGE, s.ActionIn()),
    ("contact", HANDLER, Action.CONTACT, s.ContactIn()),
    ("reply", HANDLER, Action.REPLY, s.TextIn(text="已处理")),
    (
        "callback",
        CALLBACK,
        Action.CALLBACK,
        s.CallbackIn(contacted=True, resolved="yes", satisfaction="satisfied"),
    ),
]


def run(url: str, cases: int) -> dict[str, list[float]]:
    migrate_and_seed(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = FixedClock(datetime(2026, 10, 12, 2, tzinfo=UTC))
    times: dict[str, list[float]] = defaultdict(list)
    body = s.RegisterIn(
        text="东华门街道幸福里小区楼道堆物",
        request_type="complaint",
        category="050101",
        street=STREET,
        citizen=s.CitizenIn(name="王芳", phone="13812345678"),
    )
    for _ in range(cases):
        t = time.perf_counter()
        with UnitOfWork(factory) as uow:
            case_id = register_case(uow, clock, AGENT, body).id
        times["register"].append(time.perf_counter() - t)
        for name, actor, action, cmd in STEPS:
            clock.advance(timedelta(minutes=5))
            t = time.perf_counter()
            with UnitOfWork(factory) as uow:
                act(uow, clock, actor, case_id, action, cmd, TZ)
            times[name].append(time.perf_counter() - t)
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench")
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.cases)
    recreate_pg(args.pg)
    results["PostgreSQL"] = run(args.pg, args.cases)
    lines = [
        "# Lifecycle throughput",
        "",
        f"`.venv/bin/python bench/lifecycle/bench_lifecycle.py --cases {args.cases}` — "
        f"{args.cases} cases, each registered and taken through 5 actions, one transaction "
        "and one event row per step, through the real services in one process.",
        "",
        f"Machine: {describe()}.",
        "",
        "| step | SQLite median ms | SQLite p95 ms | PostgreSQL median ms | PostgreSQL p95 ms |",
        "|---|---|---|---|---|",
    ]
    for step in ["register", *[n for n, *_ in STEPS]]:
        cells = []
        for backend in ("SQLite", "PostgreSQL"):
            xs = sorted(results[backend][step])
            cells += [
                f"{statistics.median(xs) * 1000:.2f}",
                f"{xs[int(len(xs) * 0.95)] * 1000:.2f}",
            ]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    for backend in ("SQLite", "PostgreSQL"):
        total = sum(sum(v) for v in results[backend].values())
        lines.append("")
        lines.append(
            f"{backend}: {args.cases / total:.0f} complete lifecycles/s "
            f"({args.cases * 6 / total:.0f} actions/s) on one core."
        )
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
