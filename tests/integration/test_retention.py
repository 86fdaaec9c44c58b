"""`jiesu jobs retention`: citizens' names and phones of long-finished cases are anonymised in
every table that holds them, statistics stay exactly the same, a second run changes nothing,
and case_event is never touched (its free text is shredded with the case key instead:
tests/integration/test_retention_shredding.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from jiesu.cases.models import Callback, Case, CaseEvent
from jiesu.cases.personal import SHREDDED
from jiesu.clock import FixedClock
from jiesu.notify.models import Notification
from jiesu.open311.models import Open311Request
from jiesu.open311.service import submit_request
from jiesu.ops.models import RetentionRun
from jiesu.ops.retention import ANON_NAME, anonymise_finished
from jiesu.web.models import CitizenRating
from tests.conftest import Database
from tests.helpers import AGENT, CALLBACK, DISPATCHER, do, register, to_replied

PHONE = "13812345678"
NAME = "王芳"


def build(db: Database, clock: FixedClock) -> dict[str, int]:
    ids: dict[str, int] = {}
    ids["answered"] = register(db, clock, request_type="inquiry").id
    do(db, clock, AGENT, ids["answered"], "answer", text="供暖时间为11月15日至3月15日。")
    ids["closed"] = register(db, clock, text=f"我是{NAME}，电话{PHONE}，楼道堆物堵塞消防通道。").id
    to_replied(db, clock, ids["closed"])
    do(
        db,
        clock,
        CALLBACK,
        ids["closed"],
        "callback",
        contacted=True,
        resolved="yes",
        satisfaction="satisfied",
    )
    ids["terminated"] = register(db, clock).id
    do(db, clock, DISPATCHER, ids["terminated"], "terminate", reason="重复恶意来电，经审核终止")
    ids["open"] = register(db, clock).id  # still being handled: never anonymised
    with db.uow() as uow:
        done = submit_request(
            uow,
            clock,
            "test-app",
            [
                ("service_code", "170401"),
                ("lat", "39.9163"),
                ("long", "116.3972"),
                ("description", "家里暖气不热，室温只有 14 度。"),
                ("attribute[room_temp]", "14"),
                ("email", "wang@example.com"),
                ("device_id", "device-123"),
                ("phone", "13900001111"),
            ],
        )
        ids["open311"] = done.case_id
    do(db, clock, AGENT, ids["open311"], "answer", text="已转供热公司。")
    with db.uow() as uow:
        uow.session.add(
            CitizenRating(
                case_id=ids["closed"],
                at=clock.now(),
                contacted=True,
                resolved="yes",
                satisfaction="satisfied",
                note=f"很满意，有事再打我手机 {PHONE}",
            )
        )
        uow.commit()
    clock.advance(timedelta(days=1100))
    ids["recent"] = register(db, clock).id  # finished yesterday: kept whole
    do(db, clock, AGENT, ids["recent"], "answer", text="已答复。")
    return ids


def statistics(db: Database) -> list[Any]:
    """What every report is computed from: per status, type, category, unit and month; the
    callback answers (the three rates); notifications per template and state."""
    with db.engine.connect() as conn:
        cases = conn.execute(
            sa.select(
                Case.status,
                Case.request_type,
                Case.category,
                Case.street,
                Case.lead_unit,
                Case.channel,
                Case.created_at,
                Case.closed_at,
                Case.version,
                sa.func.count(),
            )
            .group_by(
                Case.status,
                Case.request_type,
                Case.category,
                Case.street,
                Case.lead_unit,
                Case.channel,
                Case.created_at,
                Case.closed_at,
                Case.version,
            )
            .order_by(Case.created_at, Case.status)
        ).all()
        callbacks = conn.execute(
            sa.select(
                Callback.case_id, Callback.contacted, Callback.resolved, Callback.satisfaction
            ).order_by(Callback.case_id)
        ).all()
        notes = conn.execute(
            sa.select(Notification.template, Notification.status, sa.func.count())
            .group_by(Notification.template, Notification.status)
            .order_by(Notification.template, Notification.status)
        ).all()
    return [list(map(tuple, x)) for x in (cases, callbacks, notes)]


def events(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(CaseEvent.__table__).order_by("id"))]


def test_retention_anonymises_old_personal_data_and_keeps_statistics(
    db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = build(db, clock)
    stats, history = statistics(db), events(db)
    # The event log never held a phone or a name: nothing there to anonymise.
    assert PHONE not in str(history) and "13900001111" not in str(history)

    with caplog.at_level(logging.INFO, logger="jiesu.ops.retention"), db.uow() as uow:
        result = anonymise_finished(uow.session, clock.now(), 1095)
        uow.commit()
    assert (result.cases, result.open311_requests, result.ratings) == (4, 1, 1)
    assert result.notifications >= 1
    assert "4 cases" in caplog.text and PHONE not in caplog.text

    with db.engine.connect() as conn:
        people = dict(
            (row.id, (row.citizen_name, row.citizen_phone, row.text))
            for row in conn.execute(
                sa.select(Case.id, Case.citizen_name, Case.citizen_phone, Case.text)
            )
        )
        recipients = conn.execute(
            sa.select(Notification.case_id, Notification.recipient).where(
                Notification.unit_code.is_(None)
            )
        ).all()
        o311 = conn.execute(sa.select(Open311Request)).one()
        note = conn.scalar(sa.select(CitizenRating.note))
        runs = conn.execute(sa.select(RetentionRun)).all()
    for key in ("answered", "closed", "terminated", "open311"):
        assert people[ids[key]][:2] == (ANON_NAME, ""), key
    assert NAME not in people[ids["closed"]][2] and PHONE not in people[ids["closed"]][2]
    assert "楼道堆物堵塞消防通道" in people[ids["closed"]][2]  # the substance stays
    for key in ("open", "recent"):
        assert people[ids[key]][1] == PHONE, key
    old = {ids[k] for k in ("answered", "closed", "terminated", "open311")}
    assert all(r == "" for c, r in recipients if c in old)
    assert any(r == PHONE for c, r in recipients if c not in old)
    assert (o311.email, o311.device_id) == ("", "") and o311.attributes
    assert note == SHREDDED  # the citizen's own words go with the case's other free text
    assert len(runs) == 1 and runs[0].cases == 4 and runs[0].days == 1095

    assert statistics(db) == stats
    assert events(db) == history  # append-only: untouched

    with db.uow() as uow:  # idempotent
        again = anonymise_finished(uow.session, clock.now(), 1095)
        uow.commit()
    assert (again.cases, again.notifications, again.open311_requests, again.ratings) == (
        0,
        0,
        0,
        0,
    )
    assert statistics(db) == stats


def test_retention_command_uses_the_configured_days(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from jiesu.cli import app
    from jiesu.settings import get_settings

    case = register(db, clock)
    do(db, clock, AGENT, case.id, "answer", text="已答复。")
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    monkeypatch.setenv("JIESU_RETENTION_DAYS", "100000")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(app, ["jobs", "retention"])
        assert done.exit_code == 0, done.output
        assert "0 cases" in done.output  # answered minutes ago, with 100000 days to keep
        done = runner.invoke(app, ["jobs", "retention", "--days", "0"])
        assert done.exit_code == 2  # at least one day
    finally:
        get_settings.cache_clear()
