"""`jiesu analytics refresh` interrupted anywhere resumes to the same lake (issue 8, item 2).

Two ways of stopping it:

- in-process, at every step: each atomic file operation of the refresh (every Parquet file
  and every state save is written to a temporary name and renamed into place) is made to
  fail in turn, leaving the temporary file behind — whole, or cut short as by a kill during
  the write — and the refresh is then run again;
- a real `jiesu analytics refresh` process killed with SIGKILL as soon as its first file of
  a table lands, four times in a row (events, callbacks, cases, assessed), before a run
  completes.

Either way the lake then holds exactly what a clean full export of the same database holds,
compared table by table through DuckDB (the engine the metrics read it with), no temporary
file is left, and one more refresh finds nothing new. Two refreshes started at once take
turns (a lock on the lake) and give the same lake.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.export import refresh
from jiesu.analytics.lake import SCHEMAS
from jiesu.clock import FixedClock
from tests.conftest import T0, Database
from tests.helpers import DISPATCHER, TZ, called_back, do, handler, register, to_replied

JIESU = Path(sys.executable).with_name("jiesu")


class Crash(Exception):
    """Stands for the process dying at this point."""


def history(db: Database, clock: FixedClock, months: range) -> tuple[list[int], list[int]]:
    """Per month: a case closed by a satisfied callback, one called back dissatisfied, one
    replied and not yet called back, one only registered. Returns the ids of the satisfied
    ones and of the replied ones."""
    satisfied, waiting = [], []
    for m in months:
        clock.set(T0 + timedelta(days=31 * m))
        for satisfaction in ("satisfied", "dissatisfied"):
            case_id = register(db, clock).id
            to_replied(db, clock, case_id)
            called_back(db, clock, case_id, satisfaction)
            if satisfaction == "satisfied":
                satisfied.append(case_id)
        waiting.append(register(db, clock).id)
        to_replied(db, clock, waiting[-1])
        register(db, clock)
    return satisfied, waiting


def exclude(db: Database, clock: FixedClock, case_id: int) -> None:
    do(db, clock, handler(), case_id, "request_exclusion", reason="恶意诉求")
    do(db, clock, DISPATCHER, case_id, "approve_exclusion", reason="核实属实")


def run(db: Database, clock: FixedClock, lake: Path) -> str:
    with db.factory() as session:
        return str(refresh(session, lake, TZ, clock.now()))


def tables(lake: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table of the lake, as DuckDB reads it (the month partition included)."""
    engine = DuckDBEngine(lake, threads=1, memory_limit="512MB")
    try:
        return {t: engine.query(f"SELECT * FROM {t} ORDER BY ALL") for t in SCHEMAS}
    finally:
        engine.close()


def assert_same_lake(lake: Path, reference: dict[str, list[dict[str, Any]]]) -> None:
    got = tables(lake)
    for table, rows in reference.items():
        assert got[table] == rows, f"{table} differs from a clean full export"
    assert not [p.name for p in lake.rglob(".tmp-*")], "a temporary file was left behind"


def failing_replace(after: int, cut: bool) -> Callable[[Any, Any], None]:
    """os.replace that works `after` times, then leaves the temporary file (cut short when
    `cut`, as by a kill in the middle of writing it) and raises Crash."""
    real = os.replace
    calls = 0

    def replace(src: Any, dst: Any) -> None:
        nonlocal calls
        if calls == after:
            if cut:
                data = Path(src).read_bytes()
                Path(src).write_bytes(data[: len(data) // 2])
            raise Crash(f"crash before {dst}")
        calls += 1
        real(src, dst)

    return replace


def test_a_refresh_that_fails_at_any_step_resumes(
    db: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    satisfied, waiting = history(db, clock, range(3))
    base = tmp_path / "base"
    run(db, clock, base)
    # What the next refresh has to move: new months, a late callback in an exported month,
    # an exclusion that makes an exported month's assessment be derived again.
    history(db, clock, range(3, 5))
    called_back(db, clock, waiting[0], "satisfied")
    exclude(db, clock, satisfied[0])  # called back in the first month
    full = tmp_path / "full"
    run(db, clock, full)
    reference = tables(full)
    step = 0
    while True:
        lake = tmp_path / f"crash-{step}"
        shutil.copytree(base, lake)
        with monkeypatch.context() as patched, warnings.catch_warnings():
            patched.setattr(os, "replace", failing_replace(step, cut=step % 2 == 1))
            # The crashed process had another pid: its temporary files have other names.
            patched.setattr(os, "getpid", lambda: 4_000_000)
            # A dead process closes nothing: PostgreSQL's server-side cursor of the crashed
            # export is dropped unclosed, which psycopg reports with a ResourceWarning.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                run(db, clock, lake)
            except Crash:
                crashed = True
            else:
                crashed = False
            gc.collect()
        if not crashed:
            break  # every step has been failed once
        run(db, clock, lake)
        assert_same_lake(lake, reference)
        assert "nothing new" in run(db, clock, lake)
        step += 1
    assert step >= 15, f"only {step} steps: the history should touch every table"


def changed_parquet(root: Path, before: dict[str, int]) -> bool:
    if not root.exists():
        return False
    for path in root.rglob("*.parquet"):
        if path.name.startswith(".tmp-"):
            continue
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue
        if before.get(str(path)) != stamp:
            return True
    return False


def snapshot(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*.parquet")} if root.exists() else {}


def start_refresh(url: str, lake: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JIESU_DATABASE_URL": url, "JIESU_LAKE_DIR": str(lake)}
    env["JIESU_LOG_LEVEL"] = "warning"
    return subprocess.Popen(
        [str(JIESU), "analytics", "refresh"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_at_first_write(proc: subprocess.Popen[bytes], root: Path) -> None:
    """SIGKILL the refresh as soon as a Parquet file under root is written or rewritten."""
    before = snapshot(root)
    deadline = time.monotonic() + 120
    while not changed_parquet(root, before):
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"refresh ended ({proc.returncode}) before writing {root.name}: {err!r}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            pytest.fail(f"refresh never wrote {root.name}")
        time.sleep(0.0005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the refresh had finished: not killed mid-way"


def test_a_refresh_killed_again_and_again_resumes(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # A year: every table has a file per month, so the first file of each is mid-way.
    satisfied, _ = history(db, clock, range(12))
    exclude(db, clock, satisfied[0])
    full = tmp_path / "full"
    run(db, clock, full)
    reference = tables(full)
    lake = tmp_path / "lake"
    for table in ("events", "callbacks", "cases", "assessed"):
        kill_at_first_write(start_refresh(db.url, lake), lake / table)
    proc = start_refresh(db.url, lake)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert_same_lake(lake, reference)
    assert "nothing new" in run(db, clock, lake)


def test_two_refreshes_at_once_give_one_lake(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    history(db, clock, range(6))
    full = tmp_path / "full"
    run(db, clock, full)
    lake = tmp_path / "lake"
    procs = [start_refresh(db.url, lake), start_refresh(db.url, lake)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        outputs.append(out.decode())
    # They took turns: one exported everything, the other found nothing new.
    assert sum("nothing new" in out for out in outputs) == 1, outputs
    assert_same_lake(lake, tables(full))
