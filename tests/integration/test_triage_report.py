"""`jiesu model report` and `jiesu model train --from-db` over a centre's own cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jiesu.cases import schemas as s
from jiesu.cases.registration import register_case
from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.settings import get_settings
from jiesu.triage.model_store import load_model
from jiesu.triage.service import proposal_record
from tests.conftest import Database
from tests.helpers import AGENT, DISPATCHER, STREET, do, register, to_replied

runner = CliRunner()

TEXTS = {
    "010101": "东华门街道幸福里小区物业乱收费，停车费一年涨了三次",
    "050101": "东华门街道幸福里小区有人私自加盖违建房屋",
}


@pytest.fixture
def env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _case(db: Database, clock: FixedClock, text: str, final_category: str) -> None:
    # As the API does: propose, then register with the proposal stored beside the case.
    with db.uow() as uow:
        proposal = proposal_record(uow.session, clock.now(), text=text)
        body = s.RegisterIn(text=text, request_type="complaint", street=STREET)
        case = register_case(uow, clock, AGENT, body, triage=proposal)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET, category=final_category)


def test_report_counts_agreement(db: Database, clock: FixedClock, env: None) -> None:
    for code, text in TEXTS.items():
        _case(db, clock, text, code)
    register(db, clock)  # registered without a proposal (not through the API): not judged
    result = runner.invoke(app, ["model", "report"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["overall"]["n"] == 2
    assert report["overall"]["compared"]["unit"] == 2
    assert report["overall"]["agreement"]["unit"] == 1.0  # both dispatched to the street proposed
    assert set(report["by_category"]) == {"住房", "城乡建设"}
    assert list(report["by_month"]) == ["2026-10"]
    bad = runner.invoke(app, ["model", "report", "--since", "yesterday"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_train_from_db(db: Database, clock: FixedClock, env: None, tmp_path: Path) -> None:
    too_few = runner.invoke(app, ["model", "train", "--from-db", "--out", str(tmp_path / "m")])
    assert too_few.exit_code == 2 and "at least two categories" in too_few.output
    for i in range(6):
        for code, text in TEXTS.items():
            case = register(db, clock, text=f"{text}（第{i}次反映）", category=code)
            to_replied(db, clock, case.id)
    done = runner.invoke(
        app, ["model", "train", "--from-db", "--out", str(tmp_path / "m"), "--holdout", "0"]
    )
    assert done.exit_code == 0, done.output
    model = load_model(tmp_path / "m")
    assert set(model.labels) == {"住房", "城乡建设"}
    assert model.predict_top(["小区物业乱收费"], k=1)[0][0][0] == "住房"
