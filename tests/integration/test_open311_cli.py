"""`jiesu open311 key` over a real database (SQLite and PostgreSQL): a key made on the command
line works on the API, its scope is checked, and a revoked key is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jiesu.cli import app as cli_app
from jiesu.settings import get_settings
from tests.api.test_open311 import cleanup_clients, heating, post
from tests.conftest import Database

__all__ = ["cleanup_clients"]  # a fixture, used by name


def test_cli_key_create_prints_the_key_last_and_it_works(
    client: TestClient, db: Database, cleanup_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        made = runner.invoke(cli_app, ["open311", "key", "create", "--client", "kiosk"])
        assert made.exit_code == 0, made.output
        key = made.output.strip().splitlines()[-1]
        assert key.startswith("o311_")
        assert runner.invoke(cli_app, ["open311", "key", "create", "--client", "kiosk"]).exit_code
        listed = runner.invoke(cli_app, ["open311", "key", "list"])
        assert "kiosk" in listed.output and "active" in listed.output and key not in listed.output
        assert post(client, **heating(key)).status_code == 201
        assert (
            runner.invoke(cli_app, ["open311", "key", "revoke", "--client", "kiosk"]).exit_code == 0
        )
        assert post(client, **heating(key, description="x")).status_code == 403
    finally:
        get_settings.cache_clear()


def test_cli_grants_read_private_and_refuses_an_unknown_scope(
    client: TestClient,
    db: Database,
    cleanup_clients: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JIESU_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        made = runner.invoke(
            cli_app, ["open311", "key", "create", "--client", "gis", "--scope", "read_private"]
        )
        assert made.exit_code == 0, made.output
        bad = runner.invoke(
            cli_app, ["open311", "key", "create", "--client", "x", "--scope", "read_all"]
        )
        assert bad.exit_code == 2 and "read_all" in bad.output
        listed = runner.invoke(cli_app, ["open311", "key", "list"]).output
        assert "gis" in listed and "read_private" in listed and "x\t" not in listed
    finally:
        get_settings.cache_clear()
