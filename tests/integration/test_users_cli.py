"""`jiesu users` over a real database (SQLite and PostgreSQL), through typer's runner."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jiesu.cli import app as cli
from jiesu.settings import get_settings
from tests.conftest import Database
from tests.helpers import auth


def test_cli_revokes_a_users_tokens(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = auth(client, "leader")
    other = auth(client, "agent")
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["users", "revoke-tokens", "--username", "leader"])
        missing = CliRunner().invoke(cli, ["users", "revoke-tokens", "--username", "ghost"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0 and "1 token(s) of leader revoked" in out.output
    assert missing.exit_code == 2 and "no user 'ghost'" in missing.output
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    assert client.get("/api/v1/auth/me", headers=other).status_code == 200
