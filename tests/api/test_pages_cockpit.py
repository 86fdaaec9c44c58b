"""The leader cockpit reads jiesu.assessment: frozen snapshot first, the lake otherwise."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from jiesu.analytics.engines import DuckDBEngine
from jiesu.analytics.export import refresh
from jiesu.assessment import service
from jiesu.assessment.models import AssessmentPolicy
from jiesu.auth.actor import Actor
from jiesu.cases.workflow import Role
from jiesu.clock import FixedClock
from tests.api.pages_helpers import login
from tests.conftest import Database
from tests.helpers import DISTRICT, TZ, do, register, to_replied

MONTH = "2026-10"
CALLBACK = Actor("callback", Role.CALLBACK)


@pytest.fixture(autouse=True)
def _restore_weights(db: Database) -> Iterator[None]:
    """On PostgreSQL the seeded assessment_policy outlives a test: take back what it added."""
    with db.uow() as uow:
        top = uow.session.scalar(select(func.max(AssessmentPolicy.id))) or 0
    yield
    with db.uow() as uow:
        uow.session.execute(delete(AssessmentPolicy).where(AssessmentPolicy.id > top))
        uow.commit()


def _called_back(db: Database, clock: FixedClock, n: int, resolved: str = "yes") -> None:
    for _ in range(n):
        case = register(db, clock)
        to_replied(db, clock, case.id)
        body = {"contacted": True, "resolved": resolved, "satisfaction": "satisfied"}
        do(db, clock, CALLBACK, case.id, "callback", **body)


def _lake(client: TestClient, db: Database, clock: FixedClock, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    client.app.state.settings.lake_dir = str(lake)  # type: ignore[attr-defined]
    with db.factory() as session:
        refresh(session, lake, TZ, clock.now())
    return lake


def _min_cases(db: Database, n: int) -> None:
    with db.uow() as uow:
        uow.session.add(
            AssessmentPolicy(
                unit_kind="*",
                effective_from="2026-01",
                response_weight=Decimal("0.1"),
                resolution_weight=Decimal("0.45"),
                satisfaction_weight=Decimal("0.45"),
                basically_factor=Decimal("0.6"),
                partly_factor=Decimal("0"),
                min_cases=n,
            )
        )
        uow.commit()


def test_without_a_lake_the_cockpit_says_what_to_run(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    client.app.state.settings.lake_dir = str(tmp_path / "none")  # type: ignore[attr-defined]
    register(db, clock)
    login(client, "leader")
    page = client.get("/cockpit").text
    assert re.search(r'id="kpi-today">1<', page)
    assert "jiesu analytics refresh" in page


def test_rankings_respect_the_minimum_case_count(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _called_back(db, clock, 2)
    _lake(client, db, clock, tmp_path)
    login(client, "leader")
    page = client.get(f"/cockpit?month={MONTH}").text
    assert "实时" in page and re.search(r'id="kpi-month">2<', page)
    assert re.search(r'id="kpi-resolution">100.0%<', page)
    # Two cases are below the default minimum of 10: shown as not ranked, never placed.
    assert "东华门街道" not in page.split('id="rank-streets"')[1].split("</table>")[0]
    assert "未达到最少件数" in page or "不参与排名" in page
    drill = client.get(f"/cockpit/district/{DISTRICT}?month={MONTH}").text
    assert re.search(r"不参与排名.*?</td><td>东华门街道", drill, re.S)

    _min_cases(db, 2)  # the weights changed: the cached figures are not reused
    page = client.get(f"/cockpit?month={MONTH}").text
    streets = page.split('id="rank-streets"')[1].split("</table>")[0]
    assert re.search(r"<td>1</td><td>东华门街道</td>", streets)
    assert "东华门街道" in page.split('id="focus"')[1]  # the only ranked street


def test_a_frozen_month_is_shown_from_its_snapshot(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _min_cases(db, 1)
    _called_back(db, clock, 2)
    lake = _lake(client, db, clock, tmp_path)
    engine = DuckDBEngine(lake)
    try:
        with db.uow() as uow:
            service.freeze(uow.session, clock, engine, MONTH, by="admin")
            uow.commit()
    finally:
        engine.close()
    _called_back(db, clock, 1, resolved="no")  # after the freeze: only in the lake
    _lake(client, db, clock, tmp_path)
    login(client, "leader")
    page = client.get(f"/cockpit?month={MONTH}").text
    assert "冻结" in page and re.search(r'id="kpi-assessed">2<', page)
    assert re.search(r'id="kpi-resolution">100.0%<', page)


def test_map_and_ranking_show_the_configured_composite(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # Two cases of the district government itself: one solved and satisfied, one partly solved
    # and basically satisfied, so every weight and factor shows in the composite.
    for resolved, satisfaction in (("yes", "satisfied"), ("partly", "basically")):
        case = register(db, clock)
        to_replied(db, clock, case.id, unit=DISTRICT)
        body = {"contacted": True, "resolved": resolved, "satisfaction": satisfaction}
        do(db, clock, CALLBACK, case.id, "callback", **body)
    with db.uow() as uow:  # the weights a centre configured, far from the defaults
        uow.session.add(
            AssessmentPolicy(
                unit_kind="*",
                effective_from="2026-01",
                response_weight=Decimal("0.5"),
                resolution_weight=Decimal("0.3"),
                satisfaction_weight=Decimal("0.2"),
                basically_factor=Decimal("0.5"),
                partly_factor=Decimal("0.5"),
                min_cases=1,
            )
        )
        uow.commit()
    _lake(client, db, clock, tmp_path)
    login(client, "leader")
    page = client.get(f"/cockpit?month={MONTH}").text
    ranked = page.split('id="rank-districts"')[1].split("</table>")[0]
    shown = re.search(r"<td>1</td><td>东城区</td><td class=\"num\">([\d.]+)</td>", ranked)
    assert shown is not None
    data = page.split('id="map-data">')[1].split("</script>")[0]
    on_map = {d["code"]: d["value"] for d in json.loads(data)}
    # 0.5 × 1 + 0.3 × (1 + 0.5)/2 + 0.2 × (1 + 0.5)/2 = 87.5 (the default weights give 68.5).
    assert shown.group(1) == "87.5" and on_map[DISTRICT] == 87.5
    # The city's satisfaction uses the configured 基本满意 factor too: (1 + 0.5) / 2.
    assert re.search(r'id="kpi-satisfaction">75.0%<', page)
