"""`jiesu import nyc311` on both databases: real rows in, bad rows reported, nothing twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from typer.testing import CliRunner

from jiesu.audit.verify import verify
from jiesu.cases.models import Case, CaseEvent
from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.importers import common
from jiesu.importers.common import CATCH_ALL_CATEGORY, RowError
from jiesu.importers.models import ExternalRef
from jiesu.importers.nyc311 import import_nyc311
from jiesu.settings import get_settings
from jiesu.units.models import Unit
from tests.conftest import Database, truncate_pg
from tests.helpers import register
from tests.integration.test_audit_chain import tampering
from tests.shared_data import shared_data


def real() -> Path:
    """924 rows of NYC 311 (May 2022), kept in the shared data beside the repository."""
    return shared_data("nyc311", "nyc311_fedhere_pyboot_2022-05-01.csv")


HEADER = (
    "Unique Key,Created Date,Closed Date,Agency,Agency Name,Complaint Type,Descriptor,"
    "Location Type,Incident Address,Borough,Status,Resolution Description,"
    "Open Data Channel Type,Latitude,Longitude"
)


def purge(db: Database) -> None:
    """PostgreSQL keeps reference rows between tests: drop what an import added to them."""
    if db.backend != "postgresql":
        return
    with db.engine.begin() as conn:
        truncate_pg(conn, "case_record")
        conn.execute(sa.text("DELETE FROM unit WHERE code LIKE 'NYC-%' OR code LIKE 'IMPORT-%'"))
        conn.execute(sa.text("DELETE FROM category WHERE code = :c"), {"c": CATCH_ALL_CATEGORY})


@pytest.fixture
def idb(db: Database) -> Iterator[Database]:
    yield db
    purge(db)


def _consistent(db: Database) -> int:
    """Cases whose status is not the to_status of their last event (must be none)."""
    last = (
        select(CaseEvent.to_status)
        .where(CaseEvent.case_id == Case.id)
        .order_by(CaseEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    with db.factory() as s:
        return s.scalar(select(func.count()).select_from(Case).where(Case.status != last)) or 0


def test_real_file_imports_with_times_statuses_outcomes(idb: Database, clock: FixedClock) -> None:
    with idb.uow() as uow:
        report = import_nyc311(uow, clock, real())
    assert report.read == 924 and report.imported == 924 and not report.bad
    assert "NYC-NYPD" in report.units_created
    with idb.factory() as s:
        ref = s.scalar(select(ExternalRef).where(ExternalRef.external_id == "54046813"))
        assert ref is not None and ref.source == "nyc311"
        case = s.get(Case, ref.case_id)
        assert case is not None
        # 05/01/2022 12:00:09 AM in New York (EDT, UTC-4) → 04:00:09 UTC.
        assert case.created_at == datetime(2022, 5, 1, 4, 0, 9, tzinfo=UTC)
        assert case.closed_at == datetime(2022, 5, 1, 4, 7, 46, tzinfo=UTC)
        assert case.status == "closed" and case.lead_unit == "NYC-NYPD"
        assert case.category == "100102"  # Noise - Street/Sidewalk → 社会生活噪声
        assert case.reply_text.startswith("The Police Department responded")
        assert case.channel == "app" and case.lat is not None  # MOBILE
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
        assert [e.action for e in events] == [
            "register",
            "dispatch",
            "acknowledge",
            "reply",
            "callback",
        ]
        assert {e.actor for e in events} == {"import:nyc311"}
        assert events[-1].to_status == "closed" and events[-1].at == case.closed_at
        nypd = s.get(Unit, "NYC-NYPD")
        assert nypd is not None and nypd.kind == "department"
        open_case = s.get(
            Case,
            s.scalar(select(ExternalRef.case_id).where(ExternalRef.external_id == "54049402")),
        )
        assert open_case is not None and open_case.status == "dispatched"  # In Progress
        assert open_case.closed_at is None
    assert _consistent(idb) == 0


def test_rerun_adds_nothing(idb: Database, clock: FixedClock) -> None:
    with idb.uow() as uow:
        import_nyc311(uow, clock, real())
    with idb.uow() as uow:
        again = import_nyc311(uow, clock, real())
    assert again.imported == 0 and again.duplicates == 924
    with idb.factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 924


def test_bad_rows_reported_with_line_and_reason_and_skipped(
    idb: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "\n"
        # line 2: good, with a resolution spanning two physical lines
        + "1,01/15/2021 09:00:00 AM,01/16/2021 10:00:00 AM,DOT,Department of Transportation,"
        'Street Condition,Pothole,Street,1 MAIN ST,BROOKLYN,Closed,"Repaired.\nDone.",PHONE,'
        "40.6,-73.9\n"
        # line 4: not a date
        + "2,yesterday,,NYPD,NYPD,Illegal Parking,,,,,Open,,,,\n"
        # line 5: closed before created
        + "3,01/15/2021 09:00:00 AM,01/14/2021 09:00:00 AM,DOT,DOT,Street Condition,,,,,"
        "Closed,,,,\n"
        # line 6: latitude not a number
        + "4,01/15/2021 09:00:00 AM,,DOT,DOT,Street Condition,,,,,Open,,,north,-73.9\n"
        # line 7: no key
        + ",01/15/2021 09:00:00 AM,,DOT,DOT,Street Condition,,,,,Open,,,,\n"
        # line 8: good, a complaint type nobody mapped
        + "5,07/04/2021 11:30:00 PM,,DPR,Parks,Zebra Sighting,,,,,Open,,ONLINE,,\n",
        encoding="utf-8",
    )
    with idb.uow() as uow:
        report = import_nyc311(uow, clock, path)
    assert [(b.line, b.reason.split(":")[0].split(" ")[0]) for b in report.bad] == [
        (4, "Created"),
        (5, "Closed"),
        (6, "Latitude"),
        (7, "Unique"),
    ]
    assert "before" in report.bad[1].reason
    assert report.imported == 2 and report.unmapped == {"Zebra Sighting": 1}
    with idb.factory() as s:
        assert set(s.scalars(select(ExternalRef.external_id))) == {"1", "5"}
        # Bad rows leave nothing behind: 2 cases, and only their events.
        assert s.scalar(select(func.count()).select_from(Case)) == 2
        zebra = s.scalar(select(Case).where(Case.text.like("Zebra%")))
        assert zebra is not None and zebra.category == CATCH_ALL_CATEGORY
        # 11:30 PM on 4 July in New York is 03:30 UTC the next day.
        assert zebra.created_at == datetime(2021, 7, 5, 3, 30, tzinfo=UTC)
        fixed = s.scalar(select(Case).where(Case.text.like("Street Condition%")))
        assert fixed is not None and fixed.reply_text == "Repaired.\nDone."
    assert _consistent(idb) == 0


def test_file_without_required_columns_is_refused_whole(
    idb: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,when\n1,today\n", encoding="utf-8")
    with idb.uow() as uow, pytest.raises(RowError, match="missing column"):
        import_nyc311(uow, clock, path)


def test_cli_prints_summary_and_bad_rows(
    idb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        HEADER
        + "\n9,01/15/2021 09:00:00 AM,,DOT,DOT,Street Condition,,,,,Open,,,,\n"
        + "10,13/45/2021 09:00:00 AM,,DOT,DOT,Street Condition,,,,,Open,,,,\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("JIESU_DATABASE_URL", idb.url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(
            app, ["import", "nyc311", str(path), "--bad-rows", str(tmp_path / "bad.csv")]
        )
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "1 cases imported" in out.output and "line 3: Created Date" in out.output
    assert "line,reason" in (tmp_path / "bad.csv").read_text(encoding="utf-8")
    missing = CliRunner().invoke(app, ["import", "nyc311", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output


def test_batches_beside_live_cases_chain_verify_and_show_tampering(
    idb: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, a live case first (imported ids do not start at 1), half the file, then
    # all of it: the bulk path must number ids, link chains and skip what is in already.
    monkeypatch.setattr(common, "BATCH", 64)
    live = register(idb, clock)
    lines = real().read_text(encoding="utf-8").splitlines(keepends=True)
    half = tmp_path / "half.csv"
    half.write_text("".join(lines[:301]), encoding="utf-8")
    with idb.uow() as uow:
        first = import_nyc311(uow, clock, half)
    with idb.uow() as uow:
        second = import_nyc311(uow, clock, real())
    assert (first.imported, second.imported, second.duplicates) == (300, 624, 300)
    with idb.engine.connect() as conn:
        report = verify(conn)
        events = conn.scalar(select(func.count()).select_from(CaseEvent))
        ids = conn.execute(select(ExternalRef.case_id).order_by(ExternalRef.case_id)).scalars()
        assert list(ids) == list(range(live.id + 1, live.id + 925))
        stored = conn.scalar(sa.text("SELECT CAST(at AS VARCHAR) FROM case_event WHERE seq = 1"))
    assert report.ok and report.cases == 925 and report.events == events
    assert _consistent(idb) == 0
    if idb.backend == "sqlite":  # the text SQLAlchemy writes, so range queries compare right
        assert stored is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", stored)
    with idb.factory() as s:
        target = s.scalar(
            select(CaseEvent)
            .join(ExternalRef, ExternalRef.case_id == CaseEvent.case_id)
            .where(ExternalRef.external_id == "54046813", CaseEvent.action == "reply")
        )
        assert target is not None and target.payload["source"] == "nyc311"
        target_id, case_id = target.id, target.case_id
    with tampering(idb) as conn:
        conn.execute(
            sa.update(CaseEvent).where(CaseEvent.id == target_id).values(payload={"text": "ok"})
        )
    with idb.engine.connect() as conn:
        [problem] = verify(conn).problems
    assert (problem.case_id, problem.event_id) == (case_id, target_id)
    assert "does not match its hash" in problem.what
