"""Load over HTTP: registrations (with triage) while dispatch, acknowledge, contact and reply
run alongside, against `jiesu serve --workers N` on PostgreSQL. Loopback only, bounded.

    .venv/bin/python bench/serve/bench_load.py [--seconds 300] [--workers 2] [--concurrency 16]

The load generator is this process (asyncio + httpx); the server is a separate process group.
Writes bench/serve/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from machine import describe  # noqa: E402
from tests.databases import migrate_and_seed, recreate_pg  # noqa: E402
from tests.serverproc import Server  # noqa: E402

from jiesu.clock import SystemClock  # noqa: E402

STREETS = ["110101001", "110101002", "110102001", "110105001", "110108001"]
TEXT = "{street}附近幸福里小区3号楼楼道堆物堵塞消防通道，物业不管，希望尽快清理。"


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {}
        self.status: Counter[tuple[str, int]] = Counter()

    def add(self, kind: str, seconds: float, status: int) -> None:
        self.latency.setdefault(kind, []).append(seconds)
        self.status[(kind, status)] += 1


async def timed(
    client: httpx.AsyncClient, stats: Stats, kind: str, path: str, body: dict[str, object]
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
            street = STREETS[i % len(STREETS)]
            body = {
                "text": TEXT.format(street=street),
                "request_type": "complaint",
                "category": "010101",
                "street": street,
                "citizen": {"name": "王芳", "phone": f"138{i % 100000000:08d}"},
            }
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
            steps = [
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


async def drive(server: Server, seconds: float, concurrency: int) -> tuple[Stats, float]:
    users = ["agent", "dispatcher", *[f"unit-{s}" for s in STREETS]]
    tokens = {u: server.token(u) for u in users}
    stats = Stats()
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    started = time.monotonic()
    until = started + seconds
    tasks = [
        registrar(server.base, tokens["agent"], stats, queue, until, n) for n in range(concurrency)
    ]
    tasks += [handler_flow(server.base, tokens, stats, queue, until) for _ in range(2)]
    await asyncio.gather(*tasks)
    return stats, time.monotonic() - started


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench_load"
    )
    args = parser.parse_args()
    recreate_pg(args.pg)
    migrate_and_seed(args.pg, users_at=SystemClock().now())
    server = Server(args.pg, workers=args.workers)
    server.start()
    try:
        stats, took = asyncio.run(drive(server, args.seconds, args.concurrency))
    finally:
        server.kill()
    reg = stats.latency.get("register", [])
    ok = stats.status[("register", 201)]
    errors = sum(n for (kind, code), n in stats.status.items() if code not in (200, 201))
    lines = [
        "# Load over HTTP (PostgreSQL)",
        "",
        f"`.venv/bin/python bench/serve/bench_load.py --seconds {args.seconds:g} "
        f"--workers {args.workers} --concurrency {args.concurrency}` — `jiesu serve --workers "
        f"{args.workers}` (uvicorn) on PostgreSQL; {args.concurrency} concurrent registration "
        "loops (each registration computes and stores the triage proposal), one in five "
        "registered cases taken on through dispatch → acknowledge → contact → reply by two "
        "more loops. The load generator runs in a second process on the same machine.",
        "",
        f"Machine: {describe()}; server workers, PostgreSQL and the load generator share it.",
        "",
        "| what | value |",
        "|---|---|",
        f"| duration | {took:.0f} s |",
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
    lines.append(f"| errors (non-2xx or no answer) | {errors} |")
    codes = ", ".join(f"{k}:{c}×{n}" for (k, c), n in sorted(stats.status.items()))
    lines += ["", f"Status codes: {codes}."]
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
