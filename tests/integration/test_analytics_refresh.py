"""`jiesu analytics refresh`: incremental, idempotent, and repaired after a crash."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.export import refresh
from jiesu.analytics.lake import LakeState, part_name
from jiesu.clock import FixedClock
from tests.conftest import Database
from tests.helpers import CALLBACK, TZ, do, register, to_replied


def run(db: Database, clock: FixedClock, lake: Path) -> str:
    with db.factory() as session:
        return str(refresh(session, lake, TZ, clock.now()))


def count(lake: Path, table: str) -> int:
    engine = DuckDBEngine(lake)
    try:
        return int(engine.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])
    finally:
        engine.close()


def test_refresh_is_incremental_and_idempotent(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    first = register(db, clock).id
    to_replied(db, clock, first)
    assert "cases 1, events 5" in run(db, clock, lake)
    assert count(lake, "cases") == 1 and count(lake, "events") == 5
    assert (lake / "events" / "month=2026-10" / part_name(1)).exists()
    # Nothing new: a second run exports nothing and leaves the files as they were.
    files = sorted(p.name for p in lake.rglob("part-*.parquet"))
    assert "nothing new" in run(db, clock, lake)
    assert sorted(p.name for p in lake.rglob("part-*.parquet")) == files
    # A callback closes the first case; a second case arrives: only the changes move.
    do(
        db,
        clock,
        CALLBACK,
        first,
        "callback",
        contacted=True,
        resolved="yes",
        satisfaction="satisfied",
    )
    register(db, clock)
    out = run(db, clock, lake)
    assert "callbacks 1" in out and "cases 2" in out and "events 2" in out
    assert count(lake, "cases") == 2  # the changed case replaced, not duplicated
    statuses = pq.read_table(lake / "cases" / "month=2026-10" / "data.parquet")["status"]
    assert sorted(statuses.to_pylist()) == ["closed", "registered"]
    assert count(lake, "events") == 7 and count(lake, "callbacks") == 1


def test_a_crash_mid_refresh_is_repaired(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    case = register(db, clock).id
    run(db, clock, lake)
    to_replied(db, clock, case)
    # Simulate a crash: the new events were written but the state never moved, and a
    # temporary file was left half-written.
    state = LakeState.load(lake)
    run(db, clock, lake)
    state.save(lake)
    (lake / "events" / "month=2026-10" / ".tmp-99-part.parquet").write_bytes(b"half")
    out = run(db, clock, lake)
    assert "orphan files removed" in out
    assert count(lake, "events") == 5  # every event exactly once
    assert not list(lake.rglob(".tmp-*"))
