"""`jiesu audit verify` over real histories: intact chains pass, every kind of tampering is
named. Tampering needs the append-only trigger out of the way: on SQLite it is dropped in
the test's own copy of the database, on PostgreSQL it is skipped for one transaction only
(session_replication_role), so no other test ever runs without it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from jiesu.audit.verify import verify
from jiesu.cases.models import CaseEvent
from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.db import make_engine
from jiesu.migrate import upgrade
from jiesu.settings import get_settings
from tests.conftest import T0, Database, pg_or_skip, pg_scratch_url
from tests.helpers import AGENT, CALLBACK, do, register, to_replied

runner = CliRunner()
SATISFIED: dict[str, Any] = {"contacted": True, "resolved": "yes", "satisfaction": "satisfied"}


@contextmanager
def tampering(db: Database) -> Iterator[sa.Connection]:
    with db.engine.begin() as conn:
        if db.backend == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS case_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS case_event_no_delete")
        yield conn


def events(db: Database, case_id: int) -> list[sa.Row[tuple[int, int]]]:
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(CaseEvent.id, CaseEvent.seq)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.seq)
            )
        )


def cli_verify(db: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


@pytest.fixture
def history(db: Database, clock: FixedClock) -> list[int]:
    """Three cases: one closed after callback, one answered at once, one just registered."""
    closed = register(db, clock)
    to_replied(db, clock, closed.id)
    do(db, clock, CALLBACK, closed.id, "callback", **SATISFIED)
    answered = register(db, clock, request_type="inquiry")
    do(db, clock, AGENT, answered.id, "answer", text="请拨打物业电话")
    fresh = register(db, clock)
    return [closed.id, answered.id, fresh.id]


def test_intact_history_verifies(
    db: Database, history: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.engine.connect() as conn:
        report = verify(conn)
    assert report.ok and report.cases == 3 and report.events == 6 + 2 + 1
    assert [r.seq for r in events(db, history[0])] == [1, 2, 3, 4, 5, 6]
    code, out = cli_verify(db, monkeypatch)
    assert code == 0 and "3 cases, 9 events checked: chain intact" in out


def test_edited_row_is_named(
    db: Database, history: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = history[0]
    target = events(db, case_id)[2]  # acknowledge
    with tampering(db) as conn:
        conn.execute(
            sa.update(CaseEvent).where(CaseEvent.id == target.id).values(actor="someone-else")
        )
    code, out = cli_verify(db, monkeypatch)
    assert code == 1
    assert f"BROKEN case {case_id}, event {target.id} (seq 3): does not match its hash" in out
    assert "1 problem(s)" in out


def test_edited_and_rehashed_row_breaks_the_next_link(db: Database, history: list[int]) -> None:
    from jiesu.audit.chain import link

    case_id = history[0]
    rows = events(db, case_id)
    with tampering(db) as conn:
        row = conn.execute(sa.select(CaseEvent).where(CaseEvent.id == rows[1].id)).mappings().one()
        prev = conn.scalar(sa.select(CaseEvent.chain_hash).where(CaseEvent.id == rows[0].id))
        forged = {**row, "reason": "伪造"}
        conn.execute(
            sa.update(CaseEvent)
            .where(CaseEvent.id == rows[1].id)
            .values(reason="伪造", chain_hash=link(prev, forged))
        )
    with db.engine.connect() as conn:
        report = verify(conn)
    assert not report.ok
    assert report.problems[0].event_id == rows[2].id  # the row after the forged one


def test_deleted_middle_row_is_a_gap(db: Database, history: list[int]) -> None:
    case_id = history[0]
    rows = events(db, case_id)
    with tampering(db) as conn:
        conn.execute(sa.delete(CaseEvent).where(CaseEvent.id == rows[1].id))
    with db.engine.connect() as conn:
        report = verify(conn)
    [problem] = report.problems
    assert (problem.case_id, problem.event_id) == (case_id, rows[2].id)
    assert "seq 2 before this one are missing" in str(problem)


def test_deleted_newest_row_shows_in_the_case_status(db: Database, history: list[int]) -> None:
    case_id = history[0]
    rows = events(db, case_id)
    with tampering(db) as conn:
        conn.execute(sa.delete(CaseEvent).where(CaseEvent.id == rows[-1].id))
    with db.engine.connect() as conn:
        report = verify(conn)
    [problem] = report.problems
    assert problem.case_id == case_id
    assert "the case is 'closed' but its last event leads to 'replied'" in problem.what


def test_deleted_whole_history_is_named(db: Database, history: list[int]) -> None:
    with tampering(db) as conn:
        conn.execute(sa.delete(CaseEvent).where(CaseEvent.case_id == history[2]))
    with db.engine.connect() as conn:
        report = verify(conn)
    assert [p.case_id for p in report.problems] == [history[2]]
    assert "no events at all" in report.problems[0].what


def test_anchor_moves_with_every_new_event(
    db: Database, clock: FixedClock, history: list[int]
) -> None:
    with db.engine.connect() as conn:
        before = verify(conn).anchor
    clock.advance(timedelta(minutes=1))
    do(db, clock, AGENT, history[2], "answer", text="已答复")
    with db.engine.connect() as conn:
        after = verify(conn)
    assert after.ok and after.anchor != before


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_chains_existing_history(backend: str, tmp_path: Path) -> None:
    # A database with events written before revision 0006 verifies once migrated.
    url = f"sqlite:///{tmp_path / 'old.db'}"
    if backend == "postgresql":
        url = pg_scratch_url("audit")
        pg_or_skip(url)
    upgrade(url, "0005")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO case_record (id, status, version, text, request_type, urgency,"
                    " channel, address, citizen_name, citizen_phone, answer_text, reply_text,"
                    " escalation_level, reopen_count, extension_pending_reason,"
                    " exclusion_state, exclusion_reason, return_reason, created_at,"
                    " updated_at, registered_by) VALUES (1, 'answered', 2, 't', 'inquiry',"
                    " 'normal', 'phone', '', '', '', 'a', '', 0, 0, '', 'none', '', '', :at,"
                    " :at, 'agent')"
                ),
                {"at": T0.replace(tzinfo=None)},
            )
            for action, frm, to in (("register", None, "registered"), ("answer", "registered",
                                                                      "answered")):  # fmt: skip
                conn.execute(
                    sa.text(
                        "INSERT INTO case_event (case_id, at, actor, role, action, from_status,"
                        " to_status, reason, payload) VALUES (1, :at, 'agent', 'agent', :a,"
                        " :f, :t, '', '{\"k\": 1}')"
                    ),
                    {"at": T0.replace(tzinfo=None), "a": action, "f": frm, "t": to},
                )
        upgrade(url)
        with engine.connect() as conn:
            report = verify(conn)
            seqs = conn.execute(sa.text("SELECT seq FROM case_event ORDER BY id")).scalars().all()
        assert report.ok and report.events == 2 and seqs == [1, 2]
        with engine.connect() as conn, pytest.raises(sa.exc.DatabaseError):
            conn.execute(sa.text("UPDATE case_event SET actor = 'x'"))  # still append-only
    finally:
        engine.dispose()


def test_imported_history_is_chained(db: Database, clock: FixedClock) -> None:
    # Importers bulk-insert events without act(); their rows must verify all the same.
    from jiesu.importers.nyc311 import import_nyc311
    from tests.integration.test_import_nyc311 import purge, real

    try:
        with db.uow() as uow:
            imported = import_nyc311(uow, clock, real()).imported
        with db.engine.connect() as conn:
            report = verify(conn)
        assert report.ok and report.cases == imported > 900
    finally:
        purge(db)


def test_truncate_of_the_event_log_is_refused(db: Database, history: list[int]) -> None:
    if db.backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE fires the row trigger")
    # The row trigger does not fire on TRUNCATE: the statement trigger of 0012 refuses it,
    # on its own and as the cascade of truncating the cases.
    for statement in ("TRUNCATE case_event", "TRUNCATE case_record CASCADE"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert len(events(db, history[0])) > 3
