"""`jiesu analytics refresh`: incremental, idempotent, and repaired after a crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.export import GAP_MARGIN, refresh
from jiesu.analytics.lake import LakeState, case_block_name, part_name
from jiesu.cases.models import Callback
from jiesu.cases.service import act
from jiesu.cases.workflow import Action
from jiesu.clock import FixedClock
from jiesu.uow import UnitOfWork
from tests.conftest import Database
from tests.helpers import CALLBACK, TZ, called_back, do, register, to_replied


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
    assert (lake / "events" / "month=2026-10" / part_name(1, generation=1)).exists()
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
    block = lake / "cases" / "month=2026-10" / case_block_name(0)  # ids 1 and 2
    statuses = pq.read_table(block)["status"]
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


def assessed(lake: Path) -> dict[int, str]:
    engine = DuckDBEngine(lake)
    try:
        rows = engine.query("SELECT case_id, satisfaction FROM assessed WHERE NOT excluded")
    finally:
        engine.close()
    return {int(r["case_id"]): str(r["satisfaction"]) for r in rows}


class HeldUnitOfWork(UnitOfWork):
    """A transaction that takes its ids now (flush) but commits only when released, as a slow
    request on PostgreSQL does."""

    def commit(self) -> None:
        self.session.flush()

    def release(self) -> None:
        UnitOfWork.commit(self)


def test_a_late_commit_below_the_watermark_is_exported(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    if db.backend == "sqlite":
        pytest.skip("SQLite serialises writers: its ids always commit in order")
    lake = tmp_path / "lake"
    slow, fast = register(db, clock).id, register(db, clock).id
    to_replied(db, clock, slow)
    to_replied(db, clock, fast)
    held = HeldUnitOfWork(db.factory)
    with held:
        body = {"contacted": True, "resolved": "yes", "satisfaction": "basically"}
        schema = __import__("jiesu.cases.schemas", fromlist=["x"]).ACTION_SCHEMAS["callback"]
        act(held, clock, CALLBACK, slow, Action.CALLBACK, schema.model_validate(body), TZ)
        called_back(db, clock, fast, "satisfied")  # a higher id, committed first
        run(db, clock, lake)
        assert assessed(lake) == {fast: "satisfied"}
        held.release()
    out = run(db, clock, lake)
    assert "callbacks 1" in out
    assert assessed(lake) == {fast: "satisfied", slow: "basically"}
    assert count(lake, "callbacks") == 2 and count(lake, "events") == 12
    assert "nothing new" in run(db, clock, lake)


def test_a_gap_is_filled_once_and_forgotten_after_the_margin(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # Portable stand-in for an uncommitted row: hide a committed callback, then put it back.
    lake = tmp_path / "lake"
    ids = [register(db, clock).id for _ in range(3)]
    for case_id in ids:
        to_replied(db, clock, case_id)
        called_back(db, clock, case_id, "satisfied")
    table = Callback.__table__
    with db.engine.begin() as conn:
        hidden = conn.execute(sa.select(table).where(table.c.case_id == ids[1])).one()._asdict()
        conn.execute(table.delete().where(table.c.id == hidden["id"]))
    run(db, clock, lake)
    assert set(assessed(lake)) == {ids[0], ids[2]}
    assert list(LakeState.load(lake).watermarks["gaps"]["callbacks"]) == [str(hidden["id"])]
    with db.engine.begin() as conn:
        conn.execute(table.insert().values(**hidden))
    assert "callbacks 1" in run(db, clock, lake)
    assert set(assessed(lake)) == set(ids) and count(lake, "callbacks") == 3
    assert "nothing new" in run(db, clock, lake)  # filled once, never again
    # A gap that never fills (a rolled-back insert) is dropped after the margin.
    with db.engine.begin() as conn:
        conn.execute(table.delete().where(table.c.id == hidden["id"]))
        hidden["id"] += 10
        conn.execute(table.insert().values(**hidden))
    run(db, clock, lake)
    skipped = {str(i) for i in range(len(ids) + 1, hidden["id"])}  # the ids jumped over
    assert set(LakeState.load(lake).watermarks["gaps"]["callbacks"]) == skipped
    clock.advance(GAP_MARGIN + timedelta(minutes=1))
    run(db, clock, lake)
    assert LakeState.load(lake).watermarks["gaps"]["callbacks"] == {}
    assert count(lake, "callbacks") == 4  # the moved row is a new callback: 4 parts' rows


def test_a_later_exclusion_rewrites_only_the_months_it_touches(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    kept, dropped = register(db, clock).id, register(db, clock).id
    for case_id in (kept, dropped):
        to_replied(db, clock, case_id)
        called_back(db, clock, case_id, "satisfied")
    run(db, clock, lake)
    october = lake / "assessed" / "month=2026-10" / "data.parquet"
    before = october.stat().st_mtime_ns
    assert set(assessed(lake)) == {kept, dropped}
    assert "nothing new" in run(db, clock, lake)
    assert october.stat().st_mtime_ns == before  # nothing changed, nothing rewritten
    clock.advance(timedelta(days=40))
    from tests.helpers import DISPATCHER, handler

    do(db, clock, handler(), dropped, "request_exclusion", reason="恶意诉求")
    do(db, clock, DISPATCHER, dropped, "approve_exclusion", reason="核实属实")
    assert "exclusions 1" in run(db, clock, lake)
    assert set(assessed(lake)) == {kept}


def test_the_lake_holds_case_text_redacted(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    # Analysts read the lake and its files are copied around: a phone or ID number the
    # citizen typed into the text must not reach it, while the words topics are mined from do.
    lake = tmp_path / "lake"
    register(
        db, clock, text="楼道堆物堵塞消防通道，请回电 139-8765-4321，身份证 11010519491231002X"
    )
    run(db, clock, lake)
    texts = [t for p in lake.rglob("*.parquet") if "cases" in p.parts
             for t in pq.read_table(p, columns=["text"]).column("text").to_pylist()]  # fmt: skip
    assert len(texts) == 1
    assert "楼道堆物堵塞消防通道" in texts[0]
    assert "4321" not in texts[0] and "1002X" not in texts[0]
