"""Load over HTTP: registrations (with triage) while dispatch, acknowledge, contact and reply
run alongside, against `jiesu serve --workers N` on PostgreSQL. Loopback only, bounded.

    .venv/bin/python bench/serve/bench_load.py [--seconds 300] [--workers 2] [--concurrency 16]
        [--warmup 15] [--pg URL]   (default URL: $JIESU_BENCH_POSTGRES_URL or jiesu_bench_load)

The load generator is this process (asyncio + httpx); the server is a separate process group.
The first --warmup seconds of load are not counted (each worker builds its gazetteer, compiles
its statements and fills its pool on its first requests). CPU is read from /proc for the server
processes, the database's PostgreSQL backends, this process and the whole machine.
Writes the measured part of bench/serve/RESULTS.md and keeps its "What limits it" section.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from cpu import CpuMeter  # noqa: E402
from machine import describe  # type: ignore[import-not-found]  # noqa: E402
from tests.databases import migrate_and_seed, recreate_pg  # noqa: E402
from tests.serverproc import Server  # noqa: E402

from jiesu.clock import SystemClock  # noqa: E402

KEEP = "## What limits it"
STREETS = ["110101001", "110101002", "110102001", "110105001", "110108001"]
TEXT = "{street}附近幸福里小区3号楼楼道堆物堵塞消防通道，物业不管，希望尽快清理。"


def registration(i: int) -> tuple[str, dict[str, object]]:
    """The i-th registration body of the load (and of profile_register.py), with its street."""
    street = STREETS[i % len(STREETS)]
    return street, {
        "text": TEXT.format(street=street),
        "request_type": "complaint",
        "category": "010101",
        "street": street,
        "citizen": {"name": "王芳", "phone": f"138{i % 100000000:08d}"},
    }


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {}
        self.status: Counter[tuple[str, int]] = Counter()
        self.counting = True

    def add(self, kind: str, seconds: float, status: int) -> None:
        if not self.counting:
            return
        self.latency.setdefault(kind, []).append(seconds)
        self.status[(kind, status)] += 1


async def timed(
    client: httpx.AsyncClient, stats: Stats, kind: str, path: str, body: Mapping[str, object]
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        resp = await client.post(path, json=body)
    except httpx.HTTPError:
        stats.add(kind, time.perf_counter() - started, 0)
        return None
    stats.add(kind, time.perf_counter() - started, resp.status_code)
    return resp


async def registrar(
    base: str, token: str, stats: Stats, queue: asyncio.Queue[tuple[int, str]], until: float, n: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        i = n
        while time.monotonic() < until:
            street, body = registration(i)
            resp = await timed(client, stats, "register", "/api/v1/cases", body)
            if resp is not None and resp.status_code == 201 and i % 5 == 0:
                # One in five goes on through its lifecycle alongside the registrations.
                await queue.put((resp.json()["id"], street))
            i += 7


async def handler_flow(
    base: str,
    tokens: dict[str, str],
    stats: Stats,
    queue: asyncio.Queue[tuple[int, str]],
    until: float,
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < until:
            try:
                case_id, street = await asyncio.wait_for(queue.get(), timeout=1)
            except TimeoutError:
                continue
            steps: list[tuple[str, str, dict[str, str]]] = [
                ("dispatch", "dispatcher", {"lead_unit": street}),
                ("acknowledge", f"unit-{street}", {}),
                ("contact", f"unit-{street}", {"note": "已电话联系"}),
                ("reply", f"unit-{street}", {"text": "已清理完毕"}),
            ]
            for action, who, body in steps:
                client.headers["Authorization"] = f"Bearer {tokens[who]}"
                resp = await timed(client, stats, action, f"/api/v1/cases/{case_id}/{action}", body)
                if resp is None or resp.status_code != 200:
                    break


async def drive(
    server: Server, seconds: float, concurrency: int, warmup: float, meter: CpuMeter
) -> tuple[Stats, float, tuple[float, float, float], float]:
    """Load for warmup + seconds; counts and CPU cover the last `seconds` only."""
    users = ["agent", "dispatcher", *[f"unit-{s}" for s in STREETS]]
    tokens = {u: server.token(u) for u in users}
    stats = Stats()
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    until = time.monotonic() + warmup + seconds
    tasks = [
        registrar(server.base, tokens["agent"], stats, queue, until, n) for n in range(concurrency)
    ]
    tasks += [handler_flow(server.base, tokens, stats, queue, until) for _ in range(2)]
    running = asyncio.gather(*tasks)
    stats.counting = False
    await asyncio.sleep(warmup)
    stats.counting = True
    meter.start()
    me = os.times()
    started = time.monotonic()
    await running
    took = time.monotonic() - started
    after = os.times()
    load_cpu = after.user + after.system - me.user - me.system
    return stats, took, meter.stop(), load_cpu


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "JIESU_BENCH_POSTGRES_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench_load",
        ),
    )
    args = parser.parse_args()
    recreate_pg(args.pg)
    migrate_and_seed(args.pg, users_at=SystemClock().now())
    server = Server(args.pg, workers=args.workers)
    server.start()
    assert server.proc is not None
    meter = CpuMeter(args.pg, server.proc.pid)
    load_before = os.getloadavg()[0]
    try:
        stats, took, (server_cpu, pg_cpu, machine_cpu), load_cpu = asyncio.run(
            drive(server, args.seconds, args.concurrency, args.warmup, meter)
        )
    finally:
        server.kill()
    lines = report(args, stats, took, server_cpu, pg_cpu, machine_cpu, load_cpu, load_before)
    out = Path(__file__).with_name("RESULTS.md")
    kept = ""
    if out.exists() and KEEP in out.read_text(encoding="utf-8"):
        kept = KEEP + out.read_text(encoding="utf-8").split(KEEP, 1)[1]
    out.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""), encoding="utf-8")
    print("\n".join(lines))


def report(
    args: argparse.Namespace,
    stats: Stats,
    took: float,
    server_cpu: float,
    pg_cpu: float,
    machine_cpu: float,
    load_cpu: float,
    load_before: float,
) -> list[str]:
    reg = stats.latency.get("register", [])
    ok = stats.status[("register", 201)]
    requests = sum(stats.status.values())
    errors = sum(n for (kind, code), n in stats.status.items() if code not in (200, 201))
    ours = server_cpu + pg_cpu + load_cpu
    cores = os.cpu_count() or 1
    lines = [
        "# Load over HTTP (PostgreSQL)",
        "",
        f"`.venv/bin/python bench/serve/bench_load.py --seconds {args.seconds:g} "
        f"--workers {args.workers} --concurrency {args.concurrency} --warmup {args.warmup:g}` "
        f"— `jiesu serve --workers {args.workers}` (uvicorn, uvloop, httptools) on PostgreSQL "
        f"15; {args.concurrency} concurrent registration loops (each registration validates, "
        "authenticates, computes and stores the triage proposal, writes the case, its first "
        "hash-chained event and the citizen's SMS in one transaction, and answers 201 after "
        "the commit), one in five registered cases taken on through dispatch → acknowledge → "
        "contact → reply by two more loops. The load generator runs in a second process on "
        f"the same machine. The first {args.warmup:g} s of load are not counted.",
        "",
        f"Machine: {describe()}; server workers, PostgreSQL and the load generator share it "
        f"with other people's jobs (load average {load_before:.1f} at the start).",
        "",
        "| what | value |",
        "|---|---|",
        f"| duration counted | {took:.0f} s |",
        f"| registrations answered 201 | {ok} ({ok / took:.1f}/s) |",
        f"| registration latency median / p95 / p99 | {statistics.median(reg) * 1000:.0f} / "
        f"{pct(reg, 0.95):.0f} / {pct(reg, 0.99):.0f} ms |",
    ]
    for action in ("dispatch", "acknowledge", "contact", "reply"):
        xs = stats.latency.get(action, [])
        if xs:
            lines.append(
                f"| {action}: {len(xs)} done, median / p99 | "
                f"{statistics.median(xs) * 1000:.0f} / {pct(xs, 0.99):.0f} ms |"
            )
    lines += [
        f"| errors (non-2xx or no answer) | {errors} |",
        f"| CPU per registration: server workers / PostgreSQL / load generator | "
        f"{server_cpu / ok * 1000:.1f} / {pg_cpu / ok * 1000:.1f} / "
        f"{load_cpu / ok * 1000:.1f} ms (all {requests} requests, lifecycle ones included, "
        "divided by the registrations) |",
        f"| CPU per HTTP request, server + PostgreSQL | "
        f"{(server_cpu + pg_cpu) / requests * 1000:.1f} ms |",
        f"| cores busy: this benchmark / whole machine | {ours / took:.2f} / "
        f"{machine_cpu / took:.2f} of {cores} |",
        f"| registrations/s if this benchmark had all {cores} cores | {ok / ours * cores:.0f} |",
    ]
    codes = ", ".join(f"{k}:{c}×{n}" for (k, c), n in sorted(stats.status.items()))
    lines += ["", f"Status codes: {codes}."]
    return lines


if __name__ == "__main__":
    main()
