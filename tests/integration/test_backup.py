"""`jiesu db backup` / `jiesu db restore` on both databases: a round trip gives back the same
cases and events with an intact hash chain, a backup taken while cases are being registered is
consistent, and a backup of the other kind is refused before anything changes."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from jiesu.audit.verify import verify
from jiesu.cases.models import Case, CaseEvent
from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.db import make_engine
from jiesu.settings import get_settings
from tests.conftest import Database
from tests.helpers import CALLBACK, do, register, to_replied

runner = CliRunner()


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def snapshot(url: str) -> tuple[list[Any], list[Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            cases = conn.execute(sa.select(Case.__table__).order_by(Case.id)).all()
            events = conn.execute(sa.select(CaseEvent.__table__).order_by(CaseEvent.id)).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in cases], [tuple(r) for r in events]


def chain_ok(url: str) -> tuple[bool, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            report = verify(conn)
    finally:
        engine.dispose()
    return report.ok, report.summary()


def build_history(db: Database, clock: FixedClock) -> None:
    for i in range(3):
        case = register(db, clock, text=f"第{i}号楼楼道堆物堵塞消防通道，请清理。")
        if i:
            to_replied(db, clock, case.id)
        if i == 2:
            do(
                db,
                clock,
                CALLBACK,
                case.id,
                "callback",
                contacted=True,
                resolved="yes",
                satisfaction="satisfied",
            )


def test_round_trip_gives_back_the_same_cases_and_events(
    cli_env: Database, clock: FixedClock, tmp_path: Path
) -> None:
    db = cli_env
    build_history(db, clock)
    before = snapshot(db.url)
    out = tmp_path / "backups" / "jiesu.backup"
    done = runner.invoke(app, ["db", "backup", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"{db.backend} backup written to {out}" in done.output
    assert not list(out.parent.glob("*.partial"))

    # Life goes on after the backup; the restore rewinds to it.
    register(db, clock, text="备份之后登记的诉求，恢复后应当不见了。")
    assert snapshot(db.url) != before
    db.engine.dispose()
    done = runner.invoke(app, ["db", "restore", str(out), "--yes"])
    assert done.exit_code == 0, done.output
    after = snapshot(db.url)
    assert after == before and len(after[0]) == 3 and len(after[1]) > 10
    ok, summary = chain_ok(db.url)
    assert ok, summary
    done = runner.invoke(app, ["audit", "verify"])
    assert done.exit_code == 0 and "chain intact" in done.output


def test_backup_while_registering_is_consistent(
    cli_env: Database, clock: FixedClock, tmp_path: Path
) -> None:
    db = cli_env
    stop = threading.Event()
    written: list[int] = []

    def keep_registering() -> None:
        while not stop.is_set() and len(written) < 200:
            written.append(register(db, clock).id)

    writer = threading.Thread(target=keep_registering)
    writer.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        out = tmp_path / "live.backup"
        done = runner.invoke(app, ["db", "backup", "--out", str(out)])
    finally:
        stop.set()
        writer.join()
    assert done.exit_code == 0, done.output

    # Restore the live copy elsewhere: every case in it has its register event, chain intact.
    if db.backend == "sqlite":
        copy_url = f"sqlite:///{tmp_path / 'restored.db'}"
        (tmp_path / "restored.db").write_bytes(b"")
    else:
        from tests.conftest import pg_or_skip, pg_scratch_url

        copy_url = pg_scratch_url("restore")
        pg_or_skip(copy_url)
    from jiesu.ops.backup import restore

    restore(copy_url, out)
    cases, events = snapshot(copy_url)
    assert 5 <= len(cases) <= len(written)
    assert {e[1] for e in events} == {c[0] for c in cases}  # case_id of every event row
    ok, summary = chain_ok(copy_url)
    assert ok, summary


def test_restore_of_the_other_kind_is_refused(
    cli_env: Database, clock: FixedClock, tmp_path: Path
) -> None:
    db = cli_env
    register(db, clock)
    before = snapshot(db.url)
    other = tmp_path / "other.backup"
    if db.backend == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
        expected = "is a PostgreSQL backup but JIESU_DATABASE_URL is a SQLite database"
    else:
        import sqlite3

        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
        expected = "is a SQLite backup but JIESU_DATABASE_URL is a PostgreSQL database"
    done = runner.invoke(app, ["db", "restore", str(other), "--yes"])
    assert done.exit_code == 2
    assert expected in done.output
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    done = runner.invoke(app, ["db", "restore", str(junk), "--yes"])
    assert done.exit_code == 2 and "is not a jiesu backup" in done.output
    assert snapshot(db.url) == before


def test_backup_file_is_readable_by_its_owner_only(
    cli_env: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # Every citizen's name and phone is in the file: another local account must not read it,
    # whatever the operator's umask (022, the usual one, gave 0644 before).
    register(cli_env, clock, text="楼道堆物堵塞消防通道，请清理。")
    out = tmp_path / "jiesu.backup"
    old = os.umask(0o022)
    try:
        done = runner.invoke(app, ["db", "backup", "--out", str(out)])
    finally:
        os.umask(old)
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
