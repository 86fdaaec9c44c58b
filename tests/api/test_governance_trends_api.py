"""Governance JSON API over a generated lake: spatial hotspots, surges, forecasts, candidates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jiesu.demo.generate import Surge, generate
from tests.helpers import auth


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api2") / "lake"
    surge = Surge("0101", "110105021", date(2026, 10, 1), 31, 8.0)
    generate(120_000, out, end=date(2026, 10, 31), months=14, seed=11, workers=1, surges=(surge,))
    return out


def test_governance_lake_endpoints_for_the_leader(client: TestClient, lake: Path) -> None:
    client.app.state.settings.lake_dir = str(lake)  # type: ignore[attr-defined]
    leader = auth(client, "leader")
    spatial = client.get(
        "/api/v1/governance/spatial/2026-10?category=0101&level=street", headers=leader
    )
    assert spatial.status_code == 200, spatial.text
    assert spatial.json()["hotspots"][0]["area"] == "110105021"
    surges = client.get("/api/v1/governance/surges?week=2026-10-20", headers=leader)
    assert surges.status_code == 200, surges.text
    assert surges.json()["week"] == "2026-10-19"
    forecast = client.get(
        "/api/v1/governance/forecast?category=17&district=110108&horizon=4", headers=leader
    )
    assert forecast.status_code == 200 and len(forecast.json()["forecasts"]) == 4
    cands = client.get("/api/v1/governance/candidates/2026-10?top=5", headers=leader)
    assert cands.status_code == 200 and len(cands.json()["candidates"]) == 5
    assert "本月" in cands.json()["candidates"][0]["evidence"]


def test_bad_parameters_are_422_and_units_are_403(client: TestClient, lake: Path) -> None:
    client.app.state.settings.lake_dir = str(lake)  # type: ignore[attr-defined]
    analyst = auth(client, "analyst")
    bad_level = client.get("/api/v1/governance/spatial/2026-10?level=hex", headers=analyst)
    assert bad_level.status_code == 422 and "level" in bad_level.json()["error"]["message"]
    bad_method = client.get("/api/v1/governance/forecast?method=arima", headers=analyst)
    assert bad_method.status_code == 422 and "method" in bad_method.json()["error"]["message"]
    bad_month = client.get("/api/v1/governance/candidates/2026-13", headers=analyst)
    assert bad_month.status_code == 422
    agent = auth(client, "agent")
    assert client.get("/api/v1/governance/surges", headers=agent).status_code == 403
