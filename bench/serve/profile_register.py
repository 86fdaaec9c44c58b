"""Where the CPU of one registration goes, on the server side only.

    .venv/bin/python bench/serve/profile_register.py [--warm 1000] [--n 400] [--top 35]
        [--group 1] [--model DIR | --no-model]

The app is called in-process as ASGI (no HTTP client, no socket); FastAPI's worker-thread
calls and the registrar's work (cases/registrar.py, cases/registration.py) are run inline, so
one cProfile sees the whole request in one thread. Requests go `--group` at a time, stored
together as the registrar stores what arrives together (1: one at a time, like a server with
one client). First `--warm` registrations fill the duplicate window (as a loaded server has
it), then `--n` are timed without the profiler (CPU ms per registration in this process:
Python + psycopg; the PostgreSQL backend's CPU is read from /proc), then `--n` more under
cProfile.
The profiler is only ever switched on here, never in the app. The bodies are bench_load.py's
(real messages over all streets), and the live model is the one it trains.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import anyio.to_thread
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench_load import registration, train_model  # noqa: E402
from cpu import proc_cpu  # noqa: E402
from tests.databases import migrate_and_seed, recreate_pg  # noqa: E402

from jiesu.app import create_app  # noqa: E402
from jiesu.cases.registrar import Registrar, _Job  # noqa: E402
from jiesu.cases.registration import Registered, Registration  # noqa: E402
from jiesu.clock import SystemClock  # noqa: E402
from jiesu.settings import Settings  # noqa: E402
from jiesu.triage.model_store import FORMAT  # noqa: E402

# CPU time on a shared machine varies with what the neighbours run; the least of several
# batches is the steadiest figure of the code's own cost.
BATCH = 50
DEFAULT_PG = os.environ.get(
    "JIESU_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_bench_load"
)


async def _inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
    return func(*args)


class Asgi:
    """The smallest ASGI client: one request, the whole body, no network."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        hdrs = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        hdrs.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": hdrs,
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def pg_cpu_for(engine: sa.Engine, database: str) -> float:
    with engine.connect() as conn:
        pids = conn.scalars(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database}
        ).all()
    return sum(proc_cpu(int(pid)) for pid in pids)


class InlineGroups:
    """The registrar's work done in the calling thread (cProfile follows one thread), `size`
    registrations at a time: the group forms when the last of `size` concurrent calls comes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pending: list[_Job] = []

    def install(self) -> None:
        groups = self

        def submit(self: Registrar, request: Registration) -> Future[Registered]:
            job = _Job(request, Future())
            job.future.set_running_or_notify_cancel()
            groups.pending.append(job)
            if len(groups.pending) >= groups.size:
                group, groups.pending = groups.pending, []
                self._process(group)
            return job.future

        Registrar.submit = submit  # type: ignore[method-assign]


async def run(args: argparse.Namespace) -> None:
    url = args.pg
    recreate_pg(url)
    migrate_and_seed(url, users_at=SystemClock().now())
    app = create_app(Settings(database_url=url))
    client = Asgi(app)
    status, raw = await client.call(
        "POST",
        "/api/v1/auth/token",
        b"username=agent&password=jiesu-demo",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, raw
    headers = {
        "authorization": "Bearer " + json.loads(raw)["access_token"],
        "content-type": "application/json",
    }
    counter = 0

    async def register() -> None:
        nonlocal counter
        counter += 1
        _, body = registration(counter)
        status, raw = await client.call("POST", "/api/v1/cases", json.dumps(body).encode(), headers)
        if status != 201:
            raise SystemExit(f"registration answered {status}: {raw[:300]!r}")

    async def register_group() -> None:
        await asyncio.gather(*(register() for _ in range(args.group)))

    for _ in range(0, args.warm, args.group):
        await register_group()

    # Timed without the profiler: CPU of this process and of the database backends.
    monitor = sa.create_engine(sa.engine.make_url(url).set(database="postgres"))
    database = sa.engine.make_url(url).database or ""
    pg_before = pg_cpu_for(monitor, database)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    batches = []
    for start in range(0, args.n, BATCH):
        b0 = time.process_time()
        for _ in range(0, min(BATCH, args.n - start), args.group):
            await register_group()
        batches.append((time.process_time() - b0) / min(BATCH, args.n - start))
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    pg = pg_cpu_for(monitor, database) - pg_before
    batches.sort()
    print(
        f"{args.n} registrations after {args.warm}, in groups of {args.group}: "
        f"wall {wall / args.n * 1000:.1f} ms, "
        f"app process CPU {cpu / args.n * 1000:.1f} ms (batches of {BATCH}: least "
        f"{batches[0] * 1000:.1f}, median {batches[len(batches) // 2] * 1000:.1f}), "
        f"PostgreSQL backend CPU {pg / args.n * 1000:.1f} ms per registration"
    )

    if not args.top:
        monitor.dispose()
        app.state.engine.dispose()
        return
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(0, args.n, args.group):
        await register_group()
    prof.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    print(breakdown(pstats.Stats(prof)))
    if args.dump:
        prof.dump_stats(args.dump)
    monitor.dispose()
    app.state.engine.dispose()


# The parts of a registration, by the function that does each (inclusive CPU, so nested
# parts are also in their parent's figure).
PARTS = [
    ("whole request (ASGI app)", "auth/http.py", "__call__"),
    ("  authentication (token)", "web/deps.py", "current_actor"),
    ("  register view (with the registrar's work)", "cases/views.py", "register"),
    ("    triage proposal", "triage/service.py", "proposal_record"),
    ("      routing rules (remembered 5 s)", "routing/service.py", "load_rules"),
    ("      duplicate candidates (the place's window)", "triage/window.py", "candidates"),
    ("      category model: top 3", "triage/classifier.py", "predict_top"),
    ("      category model: the words that decided", "triage/classifier.py", "explain"),
    ("      keyword categories (no live model)", "triage/rules.py", "guess_category"),
    ("      duplicate finder", "triage/duplicates.py", "find_duplicates"),
    ("      place", "triage/places.py", "find_place"),
    ("    the group's transaction", "cases/registration.py", "_store"),
    ("    new_case_row (checks)", "cases/service.py", "new_case_row"),
    ("      street and district check", "cases/service.py", "_place"),
    ("      commit (flush + COMMIT)", "jiesu/uow.py", "commit"),
    ("    the 201 body", "cases/queries.py", "new_case_out"),
]


def breakdown(stats: pstats.Stats) -> str:
    cumulative: dict[tuple[str, str], float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in raw.items():
        for _label, where, func in PARTS:
            if path.endswith(where) and name == func:
                key = (where, func)
                cumulative[key] = max(cumulative.get(key, 0.0), ct)
    whole = cumulative.get((PARTS[0][1], PARTS[0][2]), 0.0) or 1.0
    lines = ["share of the request's CPU under cProfile (inflates many-small-call code):"]
    for label, where, func in PARTS:
        lines.append(f"{label:50s} {cumulative.get((where, func), 0.0) / whole * 100:5.1f}%")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--warm", type=int, default=1000)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--top", type=int, default=35, help="0: time only, no profile")
    parser.add_argument(
        "--group", type=int, default=1, help="registrations stored together (a multiple of 50)"
    )
    parser.add_argument("--dump", default="", help="also write the raw profile here")
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "bench" / f"model-{FORMAT}")
    parser.add_argument("--no-model", action="store_true", help="keyword proposals only")
    args = parser.parse_args()
    if not args.no_model:
        os.environ["JIESU_MODEL_DIR"] = str(train_model(args.model))
    else:
        os.environ["JIESU_MODEL_DIR"] = str(ROOT / "var" / "bench" / "no-model")
    # FastAPI runs sync endpoints and dependencies in worker threads; inline them so the
    # profiler (which follows one thread) sees them. Requests are sequential, so this is safe.
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    InlineGroups(args.group).install()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
