"""考评 over tricky cases built through the real lifecycle, checked against figures computed by
hand (DESIGN §6; decisions in docs/assessment.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa

from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.export import refresh
from jiesu.assessment import service
from jiesu.assessment.models import AssessmentPolicy
from jiesu.clock import FixedClock
from tests.conftest import Database
from tests.helpers import (
    CALLBACK,
    DISPATCHER,
    OTHER_STREET,
    STREET,
    TZ,
    do,
    handler,
    register,
    to_replied,
)

MONTH = "2026-10"
CO_STREET = "110101003"


@pytest.fixture
def clean(db: Database) -> Iterator[Database]:
    # Assessment rows are not among the tables the shared fixture truncates on PostgreSQL.
    with db.uow() as uow:
        uow.session.add(
            AssessmentPolicy(
                unit_kind="street",
                effective_from="2026-01",
                response_weight=Decimal("0.10"),
                resolution_weight=Decimal("0.45"),
                satisfaction_weight=Decimal("0.45"),
                basically_factor=Decimal("0.6"),
                partly_factor=Decimal("0"),
                min_cases=3,
            )
        )
        uow.commit()
    yield db
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM assessment_row"))
        conn.execute(sa.text("DELETE FROM assessment_snapshot"))
        conn.execute(sa.text("DELETE FROM assessment_policy WHERE unit_kind <> '*'"))


def callback(db: Database, clock: FixedClock, case_id: int, **answers: object) -> None:
    body = {"contacted": True, "resolved": "yes", "satisfaction": "satisfied"} | answers
    do(db, clock, CALLBACK, case_id, "callback", **body)


@dataclass
class City:
    excluded_later: int
    late: int
    changed_lead: int


def build(db: Database, clock: FixedClock) -> City:
    # a: plain, contacted in time, solved and satisfied; c: a duplicate merged into a.
    a = register(db, clock).id
    dup = register(db, clock, citizen={"name": "李雷", "phone": "13900001111"}).id
    do(db, clock, DISPATCHER, dup, "merge", into=a)
    to_replied(db, clock, a)
    callback(db, clock, a)
    callback(db, clock, dup, resolved="partly")
    # b: reopened after a bad first callback; only the month's last callback counts.
    b = register(db, clock).id
    to_replied(db, clock, b)
    callback(db, clock, b, resolved="no", satisfaction="dissatisfied")
    do(db, clock, CALLBACK, b, "reopen", reason="市民称未解决")
    do(db, clock, handler(), b, "acknowledge")
    do(db, clock, handler(), b, "reply", text="已再次处理")
    callback(db, clock, b, satisfaction="basically")
    # d: unsolved; its exclusion is approved only after the month is frozen.
    d = register(db, clock).id
    to_replied(db, clock, d)
    callback(db, clock, d, resolved="no", satisfaction="dissatisfied")
    # e: a co-handler was whistled in; the task earns the co unit nothing.
    e = register(db, clock).id
    do(db, clock, DISPATCHER, e, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), e, "acknowledge")
    do(db, clock, handler(), e, "contact", note="电话联系")
    do(db, clock, handler(), e, "whistle", units=[CO_STREET], reason="需要协同", due_hours=48)
    do(db, clock, handler(CO_STREET), e, "accept_task")
    do(db, clock, handler(CO_STREET), e, "reply_task", text="已配合")
    do(db, clock, handler(), e, "reply", text="已联合处理")
    callback(db, clock, e)
    # f: first with the other street, which contacted the citizen; then reassigned to STREET,
    # which replied without its own contact: assessed to STREET, not responded.
    f = register(db, clock).id
    do(db, clock, DISPATCHER, f, "dispatch", lead_unit=OTHER_STREET)
    do(db, clock, handler(OTHER_STREET), f, "acknowledge")
    do(db, clock, handler(OTHER_STREET), f, "contact", note="电话联系")
    do(db, clock, DISPATCHER, f, "reassign", lead_unit=STREET, reason="属地调整")
    do(db, clock, handler(), f, "acknowledge")
    do(db, clock, handler(), f, "reply", text="已处理")
    callback(db, clock, f)
    # h: contacted three days after dispatch, well past the contact time limit.
    h = register(db, clock).id
    do(db, clock, DISPATCHER, h, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), h, "acknowledge")
    do(db, clock, handler(), h, "contact", after=timedelta(days=3), note="迟到的联系")
    do(db, clock, handler(), h, "reply", text="已处理")
    callback(db, clock, h)
    # g: the other street's only case: shown, below the minimum, unranked.
    g = register(db, clock).id
    to_replied(db, clock, g, unit=OTHER_STREET)
    callback(db, clock, g)
    return City(excluded_later=d, late=h, changed_lead=f)


def lake_engine(db: Database, clock: FixedClock, lake: Path) -> DuckDBEngine:
    with db.factory() as session:
        refresh(session, lake, TZ, clock.now())
    return DuckDBEngine(lake)


def composite(response: Fraction, resolution: Fraction, satisfaction: Fraction) -> float:
    return float(
        Fraction(1, 10) * response
        + Fraction(45, 100) * resolution
        + Fraction(45, 100) * satisfaction
    )


def test_tricky_month_against_hand_figures(
    clean: Database, clock: FixedClock, tmp_path: Path
) -> None:
    db = clean
    city = build(db, clock)
    engine = lake_engine(db, clock, tmp_path / "lake")
    with db.factory() as session:
        policies = service.load_policies(session)
    result = service.live(engine, MONTH, policies).as_dict("streets")
    rows = {r["unit"]: r for r in result["units"]}
    # STREET: a, merged duplicate, b (last callback), d, e, f, h = 7 cases;
    # responded: all but f (no own contact) and h (late) = 5;
    # resolved yes: a, b, e, f, h = 5 (the duplicate's "partly" counts 0);
    # satisfied: a, dup, e, f, h = 5, basically: b → (5 + 0.6) / 7.
    s = rows[STREET]
    assert s["assessed"] == 7
    assert s["response_rate"] == pytest.approx(5 / 7)
    assert s["resolution_rate"] == pytest.approx(5 / 7)
    assert s["satisfaction_rate"] == pytest.approx(5.6 / 7)
    assert s["composite"] == pytest.approx(
        composite(Fraction(5, 7), Fraction(5, 7), Fraction(28, 35))
    )
    assert s["rank"] == 1
    # The other street: one case (g), every rate 1, but below the minimum of 3: unranked.
    o = rows[OTHER_STREET]
    assert (o["assessed"], o["rank"], o["composite"]) == (1, None, pytest.approx(1.0))
    # The co-handler is never assessed for its task.
    assert CO_STREET not in rows
    # Drill-down: the response figure is exactly the sum of credits over the listed cases.
    cases = service.drill(engine, MONTH, STREET, "response", policies)
    assert len(cases) == 7
    missed = {c["case_id"] for c in cases if c["credit"] == 0}
    assert missed == {city.late, city.changed_lead}
    engine.close()


def test_exclusion_after_freeze_makes_a_new_version(
    clean: Database, clock: FixedClock, tmp_path: Path
) -> None:
    db = clean
    city = build(db, clock)
    lake = tmp_path / "lake"
    engine = lake_engine(db, clock, lake)
    with db.uow() as uow:
        first = service.freeze(uow.session, clock, engine, MONTH, by="leader")
        uow.commit()
    assert first.created and first.snapshot.version == 1
    with db.uow() as uow:
        again = service.freeze(uow.session, clock, engine, MONTH, by="leader")
    assert not again.created and again.snapshot.version == 1
    engine.close()
    # November: the unit asks to exclude case d, the centre approves.
    clock.advance(timedelta(days=30))
    do(db, clock, handler(), city.excluded_later, "request_exclusion", reason="恶意诉求")
    do(db, clock, DISPATCHER, city.excluded_later, "approve_exclusion", reason="核实属实")
    engine = lake_engine(db, clock, lake)
    with db.uow() as uow:
        # The frozen figures do not move by themselves …
        v1 = service.frozen(uow.session, service.get_snapshot(uow.session, MONTH, 1))
        assert next(u for u in v1.units if u.unit == STREET).counts.assessed == 7
        second = service.freeze(uow.session, clock, engine, MONTH, by="leader", reason="剔除")
        uow.commit()
    # … a new version records the change and says what moved.
    assert second.created and second.snapshot.version == 2
    # Without d (responded, unsolved, dissatisfied): 6 cases, 4 responded, 5 solved, 5.6.
    change = next(c for c in second.snapshot.diff if c["unit"] == STREET)
    assert change["fields"]["assessed"] == {"from": 7, "to": 6}
    assert change["fields"]["composite"]["to"] == pytest.approx(
        composite(Fraction(4, 6), Fraction(5, 6), Fraction(56, 60))
    )
    with db.factory() as session:
        assert [s.version for s in service.snapshots(session, MONTH)] == [1, 2]
    engine.close()


def test_api_and_cli(clean: Database, clock: FixedClock, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from jiesu.app import create_app
    from jiesu.cli import app as cli
    from jiesu.settings import Settings, get_settings
    from tests.helpers import auth

    db = clean
    build(db, clock)
    lake = tmp_path / "lake"
    lake_engine(db, clock, lake).close()
    web = create_app(Settings(database_url=db.url, lake_dir=str(lake)), clock)
    with TestClient(web, raise_server_exceptions=False) as client:
        leader = auth(client, "leader")
        body = client.get(f"/api/v1/assessment/{MONTH}?group=streets", headers=leader).json()
        assert body["source"] == "live"
        assert {u["unit"]: u["assessed"] for u in body["units"]} == {STREET: 7, OTHER_STREET: 1}
        drill = client.get(
            f"/api/v1/assessment/{MONTH}/{STREET}/cases?metric=response", headers=leader
        ).json()
        assert drill["rate"] == pytest.approx(5 / 7) and len(drill["cases"]) == 7
        bad = client.get("/api/v1/assessment/2026-13", headers=leader)
        assert bad.status_code == 422 and "month" in bad.json()["error"]["message"]
        unit = client.get(f"/api/v1/assessment/{MONTH}", headers=auth(client, "unit-110101001"))
        assert unit.status_code == 403
    web.state.engine.dispose()
    env = {"JIESU_DATABASE_URL": db.url, "JIESU_LAKE_DIR": str(lake)}
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        shown = runner.invoke(
            cli, ["assess", "--month", MONTH, "--group", "streets", "--format", "csv"], env=env
        )
        assert shown.exit_code == 0, shown.output
        assert f"{STREET},东华门街道,streets,7," in shown.output
        frozen = runner.invoke(cli, ["assess", "freeze", "--month", MONTH], env=env)
        assert "version 1" in frozen.output
        report = tmp_path / "monthly.html"
        made = runner.invoke(
            cli, ["report", "monthly", "--month", MONTH, "--out", str(report)], env=env
        )
        assert made.exit_code == 0, made.output
        assert "东华门街道" in report.read_text(encoding="utf-8")
        xlsx = tmp_path / "monthly.xlsx"
        made = runner.invoke(
            cli, ["report", "monthly", "--month", MONTH, "--out", str(xlsx)], env=env
        )
        assert made.exit_code == 0 and xlsx.stat().st_size > 0
    finally:
        get_settings.cache_clear()
