"""The command line and the demo city, end to end on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from jiesu.auth.models import User
from jiesu.cases.models import Case, CaseEvent
from jiesu.cli import app
from jiesu.db import make_engine, make_session_factory
from jiesu.demo.build import build_demo
from jiesu.settings import get_settings
from tests.conftest import T0, pg_or_skip, pg_scratch_url

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    url = pg_scratch_url("cli")
    pg_or_skip(url)
    yield url


@pytest.fixture
def env(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JIESU_DATABASE_URL", empty_url)
    get_settings.cache_clear()
    yield empty_url
    get_settings.cache_clear()


def test_upgrade_load_users_scan(env: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    loaded = runner.invoke(app, ["org", "load"])
    assert loaded.exit_code == 0 and "406 units" in loaded.output
    again = runner.invoke(app, ["org", "load"])  # idempotent
    assert again.exit_code == 0
    made = runner.invoke(
        app,
        ["users", "create", "--username", "wang", "--role", "handler", "--unit", "110101001"],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert made.exit_code == 0, made.output
    bad = runner.invoke(
        app,
        ["users", "create", "--username", "li", "--role", "boss"],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert bad.exit_code == 2 and "role" in bad.output
    scan = runner.invoke(app, ["jobs", "scan"])
    assert scan.exit_code == 0 and "0 reminders" in scan.output
    broken = tmp_path / "cats.csv"
    broken.write_text("code,name,level\n01,住房,1\n0101,物业,4\n", encoding="utf-8")
    refused = runner.invoke(app, ["org", "import-categories", str(broken)])
    assert refused.exit_code == 2 and "line" in refused.output
    engine = make_engine(env)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()


def test_demo_city(empty_url: str) -> None:
    summary = build_demo(empty_url, cases=400, days=30, seed=7, now=T0)
    assert "logins" in summary and "unit-110101001" in summary
    engine = make_engine(empty_url)
    with make_session_factory(engine)() as session:
        statuses = dict(
            session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
        )
        assert sum(statuses.values()) == 400
        assert {"answered", "dispatched", "acknowledged", "closed", "merged"} <= set(statuses)
        # Every case's status is the last event's: the event log tells the whole story.
        last = (
            select(CaseEvent.case_id, func.max(CaseEvent.id).label("last"))
            .group_by(CaseEvent.case_id)
            .subquery()
        )
        mismatched = session.scalar(
            select(func.count())
            .select_from(Case)
            .join(last, last.c.case_id == Case.id)
            .join(CaseEvent, CaseEvent.id == last.c.last)
            .where(CaseEvent.to_status != Case.status)
        )
        assert mismatched == 0
        users = session.scalar(select(func.count()).select_from(User))
        assert users is not None and users > 400
    engine.dispose()
    if not empty_url.startswith("sqlite"):
        with pytest.raises(Exception, match="refusing"):
            build_demo(empty_url, cases=10, days=1, seed=1, now=T0)
