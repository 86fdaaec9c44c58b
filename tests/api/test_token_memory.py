"""Tokens remembered for a few seconds per process (jiesu.auth.cache): what is served from
memory, and how soon a revocation, a deactivation or an expiry is seen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.auth import cache
from jiesu.auth.models import ApiToken, User
from jiesu.auth.service import actor_for_token, issue_token
from jiesu.clock import FixedClock
from jiesu.errors import Unauthorized
from tests.conftest import T0, Database
from tests.helpers import auth

ME = "/api/v1/auth/me"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ticks]:
    t = Ticks()
    monkeypatch.setattr(cache.TOKENS, "_clock", t)
    cache.TOKENS.clear()
    yield t
    cache.TOKENS.clear()


def count_statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    return seen


def test_a_remembered_token_costs_no_query(db: Database, ticks: Ticks) -> None:
    with db.uow() as uow:
        user = uow.session.scalar(sa.select(User).where(User.username == "agent"))
        assert user is not None
        token = issue_token(uow.session, user, T0, timedelta(hours=12))
        uow.commit()
    seen = count_statements(db.engine)
    with db.uow() as uow:
        assert actor_for_token(uow.session, token, T0).username == "agent"
    asked = len(seen)
    assert asked >= 1
    with db.uow() as uow:
        assert actor_for_token(uow.session, token, T0).username == "agent"
    assert len(seen) == asked  # answered from memory
    ticks.now += cache.TTL_SECONDS
    with db.uow() as uow:
        assert actor_for_token(uow.session, token, T0).username == "agent"
    assert len(seen) > asked  # the memory ran out: asked again
    with db.uow() as uow, pytest.raises(Unauthorized):
        actor_for_token(uow.session, "not-a-token", T0)


def test_deactivating_a_user_in_this_process_is_seen_at_once(
    client: TestClient, db: Database, ticks: Ticks
) -> None:
    h = auth(client, "leader")
    assert client.get(ME, headers=h).status_code == 200
    set_active(db, "leader", False)
    try:
        assert client.get(ME, headers=h).status_code == 401
    finally:
        set_active(db, "leader", True)  # users are seed data, kept between PostgreSQL tests


def set_active(db: Database, username: str, active: bool) -> None:
    with db.uow() as uow:
        user = uow.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        user.active = active
        uow.commit()


def test_a_bulk_revocation_in_this_process_is_seen_at_once(
    client: TestClient, db: Database, ticks: Ticks
) -> None:
    h = auth(client, "leader")
    assert client.get(ME, headers=h).status_code == 200
    with db.uow() as uow:
        uow.session.execute(sa.update(ApiToken).values(revoked=True))
        uow.commit()
    assert client.get(ME, headers=h).status_code == 401


def test_a_revocation_by_another_process_is_seen_within_the_ttl(
    client: TestClient, db: Database, ticks: Ticks
) -> None:
    h = auth(client, "leader")
    assert client.get(ME, headers=h).status_code == 200
    # Another process's write: plain SQL on its own connection, no session of this process.
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE api_token SET revoked = true"))
    assert client.get(ME, headers=h).status_code == 200  # the documented window
    ticks.now += cache.TTL_SECONDS
    assert client.get(ME, headers=h).status_code == 401


def test_a_remembered_token_still_expires_on_time(
    client: TestClient, clock: FixedClock, ticks: Ticks
) -> None:
    h = auth(client, "agent")
    assert client.get(ME, headers=h).status_code == 200
    clock.advance(timedelta(hours=12))
    resp = client.get(ME, headers=h)
    assert resp.status_code == 401 and "expired" in resp.json()["error"]["message"]
