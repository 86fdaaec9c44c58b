"""Load over HTTP: registrations (with triage by a live model) from wrk, while dispatch,
acknowledge, contact and reply run alongside, against `jiesu serve --workers N` on PostgreSQL.
Loopback only, bounded in time.

    .venv/bin/python bench/serve/bench_load.py [--seconds 300] [--warmup 15] [--workers 2]
        [--connections 24] [--model DIR] [--pg URL] [--spy FILE]
        (default URL: $JIESU_BENCH_POSTGRES_URL or jiesu_bench_load)

Registrations come from wrk (Debian's package `wrk`; `make bench` installs it), a second
process: real citizens' messages (附件3 of ../shared/data/teddycup2020_c, subject and text) over
all 343 streets/townships, each with its own Idempotency-Key, `--connections` at once. A live
triage model (trained on the labelled dev split unless --model is given) classifies each one.
Alongside, this process registers on five streets in one loop and takes one in five of those
cases through dispatch → acknowledge → contact → reply in two more loops.
The first --warmup seconds of load are not counted (each worker loads the model, builds its
gazetteer, compiles its statements and fills its pool on its first requests). CPU is read from
/proc for the server processes, the database's PostgreSQL backends, the load generators (wrk
and this process) and the whole machine.
Writes the measured part of bench/serve/RESULTS.md and keeps its "What limits it" section;
with `--spy FILE` (spy.py) it prints the figures and the shares of the workers' samples instead.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from cpu import CpuMeter  # noqa: E402
from machine import describe  # type: ignore[import-not-found]  # noqa: E402
from spy import record, summarise  # noqa: E402
from tests.databases import migrate_and_seed, recreate_pg  # noqa: E402
from tests.serverproc import Server  # noqa: E402

from jiesu.clock import SystemClock  # noqa: E402
from jiesu.triage.model_store import FORMAT  # noqa: E402
from jiesu.units.catalog import load_units  # noqa: E402

KEEP = "## What limits it"
DATA = ROOT.parent / "shared" / "data" / "teddycup2020_c"
LUA = Path(__file__).with_name("register.lua")
# The lifecycle loops act as these streets' units (their demo logins).
STREETS = ["110101001", "110101002", "110102001", "110105001", "110108001"]
BODIES = 20_000
MAX_TEXT = 2000


@functools.cache
def _texts() -> list[str]:
    path = DATA / "fujian3_full_4326_likes.csv"
    if not path.exists():
        raise SystemExit(f"{path} is missing: this bench sends real citizens' messages")
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(r["留言主题"] + "\n" + r["留言详情"]).strip() for r in csv.DictReader(f)]
    return [t[:MAX_TEXT] for t in rows if t]


@functools.cache
def _all_streets() -> list[str]:
    return [u.code for u in load_units() if u.kind == "street"]


def registration(i: int, streets: Sequence[str] | None = None) -> tuple[str, dict[str, object]]:
    """The i-th registration body of the load (and of profile_register.py), with its street:
    the i-th real message, at a street spread over all of them (or over `streets`)."""
    pool = streets or _all_streets()
    texts = _texts()
    street = pool[(i * 7919) % len(pool)]
    return street, {
        "text": texts[i % len(texts)],
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
    base: str,
    token: str,
    stats: Stats,
    queue: asyncio.Queue[tuple[int, str]],
    stop: threading.Event,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        i = 0
        while not stop.is_set():
            street, body = registration(i, STREETS)
            resp = await timed(client, stats, "register", "/api/v1/cases", body)
            if resp is not None and resp.status_code == 201 and i % 5 == 0:
                # One in five goes on through its lifecycle alongside the registrations.
                await queue.put((resp.json()["id"], street))
            i += 1


async def handler_flow(
    base: str,
    tokens: dict[str, str],
    stats: Stats,
    queue: asyncio.Queue[tuple[int, str]],
    stop: threading.Event,
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
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


async def alongside(base: str, tokens: dict[str, str], stats: Stats, stop: threading.Event) -> None:
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    await asyncio.gather(
        registrar(base, tokens["agent"], stats, queue, stop),
        *(handler_flow(base, tokens, stats, queue, stop) for _ in range(2)),
    )


def wrk(base: str, seconds: float, connections: int, run: str, env: dict[str, str]) -> Any:
    """One wrk run; its JSON summary line (register.lua's `done`)."""
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(LUA), base, "--", run,
    ]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Measured:
    wrk: Any
    stats: Stats
    took: float
    server_cpu: float
    pg_cpu: float
    machine_cpu: float
    load_cpu: float


def drive(server: Server, args: argparse.Namespace, meter: CpuMeter) -> Measured:
    """wrk for warmup then seconds; counts and CPU cover the second run only."""
    users = ["agent", "dispatcher", *[f"unit-{s}" for s in STREETS]]
    tokens = {u: server.token(u) for u in users}
    stats = Stats()
    stats.counting = False
    stop = threading.Event()
    side = threading.Thread(
        target=lambda: asyncio.run(alongside(server.base, tokens, stats, stop)), daemon=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        bodies = Path(tmp) / "bodies.jsonl"
        with bodies.open("w", encoding="utf-8") as f:
            for i in range(BODIES):
                f.write(json.dumps(registration(i)[1], ensure_ascii=False) + "\n")
        env = {**os.environ, "JIESU_TOKEN": tokens["agent"], "JIESU_BODIES": str(bodies)}
        side.start()
        wrk(server.base, args.warmup, args.connections, "warm", env)
        stats.counting = True
        spy = record(meter.server_pgid, args.seconds, args.spy) if args.spy else None
        meter.start()
        me = os.times()
        started = time.monotonic()
        summary = wrk(server.base, args.seconds, args.connections, "run", env)
        took = time.monotonic() - started
        stats.counting = False
        server_cpu, pg_cpu, machine_cpu = meter.stop()
        after = os.times()
        if spy is not None:
            spy.wait()
    stop.set()
    side.join(timeout=60)
    # This process's loops and the wrk run (a child, waited for) together.
    load_cpu = sum(after[:4]) - sum(me[:4])
    return Measured(summary, stats, took, server_cpu, pg_cpu, machine_cpu, load_cpu)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def train_model(out: Path) -> Path:
    """A live model as a centre would have one: trained on the labelled dev split."""
    if (out / "manifest.json").exists():
        return out
    jiesu = Path(sys.executable).with_name("jiesu")
    data = DATA / "fujian2_raw_split_dev_1842_labelled.csv"
    cmd = [str(jiesu), "model", "train", "--input", str(data), "--out", str(out)]
    cmd += ["--text-column", "text_title_plus_detail", "--label-column", "一级分类"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=24)
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "bench" / f"model-{FORMAT}")
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "JIESU_BENCH_POSTGRES_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench_load",
        ),
    )
    parser.add_argument(
        "--spy",
        type=Path,
        help="py-spy the workers during the counted run (spy.py): its stacks to this file, "
        "the parts' shares printed; RESULTS.md is then left as it is (py-spy slows the server)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does)")
    model = train_model(args.model)
    recreate_pg(args.pg)
    migrate_and_seed(args.pg, users_at=SystemClock().now())
    os.environ["JIESU_MODEL_DIR"] = str(model)  # the server's live model
    server = Server(args.pg, workers=args.workers)
    server.start()
    assert server.proc is not None
    meter = CpuMeter(args.pg, server.proc.pid)
    load_before = os.getloadavg()[0]
    try:
        m = drive(server, args, meter)
    finally:
        server.kill()
    lines = report(args, m, load_before)
    if args.spy:
        print("\n".join(lines))
        print(summarise(args.spy))
        return
    out = Path(__file__).with_name("RESULTS.md")
    kept = ""
    if out.exists() and KEEP in out.read_text(encoding="utf-8"):
        kept = KEEP + out.read_text(encoding="utf-8").split(KEEP, 1)[1]
    out.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""), encoding="utf-8")
    print("\n".join(lines))


def report(args: argparse.Namespace, m: Measured, load_before: float) -> list[str]:
    w, stats, took = m.wrk, m.stats, m.took
    codes = {int(k): v for k, v in w["codes"].items()}
    wrk_ok = codes.get(201, 0)
    side_ok = stats.status[("register", 201)]
    ok = wrk_ok + side_ok
    socket_errors = sum(w["errors"][k] for k in ("connect", "read", "write", "timeout"))
    wrk_bad = sum(n for c, n in codes.items() if c != 201) + socket_errors
    side_bad = sum(n for (_, c), n in stats.status.items() if c not in (200, 201))
    requests = w["requests"] + sum(stats.status.values())
    ours = m.server_cpu + m.pg_cpu + m.load_cpu
    cores = os.cpu_count() or 1
    lat = {k: v / 1000 for k, v in w["latency_us"].items()}
    lines = [
        "# Load over HTTP (PostgreSQL)",
        "",
        f"`.venv/bin/python bench/serve/bench_load.py --seconds {args.seconds:g} "
        f"--warmup {args.warmup:g} --workers {args.workers} --connections {args.connections}` "
        f"— `jiesu serve --workers {args.workers}` (uvicorn, uvloop, httptools) on PostgreSQL "
        f"15. wrk keeps {args.connections} registrations in flight: real citizens' messages "
        "(附件3) over all 343 streets/townships, each validated, authenticated, triaged by the "
        "live model (category, urgency, place, routing rule, duplicates among the 300 most "
        "recent cases of the place its text names — most of these messages name no "
        "Beijing place: the city-wide window), stored with its proposal, its first "
        "hash-chained event and the citizen's SMS in one transaction, and answered 201 after "
        "the commit. Alongside, one loop registers on five streets and two loops take one in "
        "five of those cases through dispatch → acknowledge → contact → reply. The load "
        "generators (wrk and this Python process) run on the same machine. The first "
        f"{args.warmup:g} s of load are not counted.",
        "",
        f"Machine: {describe()}; server workers, PostgreSQL and the load generators share it "
        f"with other people's jobs (load average {load_before:.1f} at the start).",
        "",
        "| what | value |",
        "|---|---|",
        f"| duration counted | {took:.0f} s |",
        f"| registrations answered 201 | {ok} ({ok / took:.1f}/s; wrk {wrk_ok}, "
        f"lifecycle loop {side_ok}) |",
        f"| registration latency (wrk) median / p95 / p99 / max | {lat['p50']:.0f} / "
        f"{lat['p95']:.0f} / {lat['p99']:.0f} / {lat['max']:.0f} ms |",
    ]
    for action in ("dispatch", "acknowledge", "contact", "reply"):
        xs = stats.latency.get(action, [])
        if xs:
            lines.append(
                f"| {action}: {len(xs)} done, median / p99 | "
                f"{statistics.median(xs) * 1000:.0f} / {pct(xs, 0.99):.0f} ms |"
            )
    lines += [
        f"| errors (non-2xx, socket errors or timeouts) | {wrk_bad + side_bad} |",
        f"| CPU per registration: server workers / PostgreSQL / load generators | "
        f"{m.server_cpu / ok * 1000:.1f} / {m.pg_cpu / ok * 1000:.1f} / "
        f"{m.load_cpu / ok * 1000:.1f} ms (all {requests} requests, lifecycle ones included, "
        "divided by the registrations) |",
        f"| CPU per HTTP request, server + PostgreSQL | "
        f"{(m.server_cpu + m.pg_cpu) / requests * 1000:.1f} ms |",
        f"| cores busy: this benchmark / whole machine | {ours / took:.2f} / "
        f"{m.machine_cpu / took:.2f} of {cores} |",
        f"| registrations/s if this benchmark had all {cores} cores | {ok / ours * cores:.0f} |",
    ]
    side = ", ".join(f"{k}:{c}×{n}" for (k, c), n in sorted(stats.status.items()))
    lines += [
        "",
        f"Status codes: wrk {dict(sorted(codes.items()))}, socket errors {w['errors']}; "
        f"alongside {side}.",
    ]
    return lines


if __name__ == "__main__":
    main()
