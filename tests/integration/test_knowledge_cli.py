"""`jiesu knowledge load` over a real database (SQLite and PostgreSQL): the seed articles are
loaded once, and an agent finds the one a caller names."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jiesu.cli import app
from jiesu.settings import get_settings
from tests.api.test_knowledge_api import kb
from tests.conftest import Database
from tests.helpers import auth

__all__ = ["kb"]  # a fixture, used by name


def _load(db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["knowledge", "load"])
        again = CliRunner().invoke(app, ["knowledge", "load"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0 and again.exit_code == 0
    assert "0 articles added" in again.output  # idempotent
    return first.output


def test_seed_search_finds_the_article_a_caller_names(
    kb: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "31 articles added" in _load(db, monkeypatch)
    agent = auth(kb, "agent")
    hits = kb.get("/api/v1/knowledge", params={"q": "公积金 租房"}, headers=agent).json()
    assert hits[0]["title"] == "住房公积金提取：租房提取"
    assert hits[0]["score"] > hits[-1]["score"]
    by_cat = kb.get("/api/v1/knowledge", params={"category": "0402"}, headers=agent).json()
    assert by_cat and all(h["category"].startswith("0402") for h in by_cat)
    assert kb.get("/api/v1/knowledge", params={"q": "外星人"}, headers=agent).json() == []
