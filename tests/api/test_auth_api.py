"""Login throttling and lockout, token revocation, the password policy, API security headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from jiesu.app import create_app
from jiesu.auth.models import LoginAttempt
from jiesu.auth.service import create_user
from jiesu.clock import FixedClock
from jiesu.errors import InvalidInput
from jiesu.settings import Settings
from tests.conftest import T0, Database
from tests.helpers import auth

TOKEN = "/api/v1/auth/token"


def login(client: TestClient, username: str, password: str = "jiesu-demo") -> int:
    return client.post(TOKEN, data={"username": username, "password": password}).status_code


@pytest.fixture
def strict(db: Database, clock: FixedClock) -> Iterator[TestClient]:
    """Small limits so a test stays quick: 3 per username, 5 per client address."""
    settings = Settings(database_url=db.url, login_max_failures=3, login_max_failures_per_client=5)
    app = create_app(settings, clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.engine.dispose()


def test_username_locks_after_failures_then_unlocks(
    strict: TestClient, clock: FixedClock, db: Database
) -> None:
    assert [login(strict, "agent", "wrong-password") for _ in range(3)] == [401, 401, 401]
    locked = strict.post(TOKEN, data={"username": "agent", "password": "jiesu-demo"})
    assert locked.status_code == 429
    err = locked.json()["error"]
    assert err["code"] == "too_many_attempts" and "15 minute" in err["message"]
    assert 0 < err["details"]["retry_after_seconds"] <= 15 * 60
    assert login(strict, "dispatcher") == 200  # another user from the same place is not locked
    clock.advance(timedelta(minutes=16))
    assert login(strict, "agent") == 200
    with db.factory() as s:
        outcomes = [a.outcome for a in s.query(LoginAttempt).filter_by(username="agent")]
    assert outcomes == ["failed", "failed", "failed", "locked", "ok"]


def test_success_resets_the_username_count(strict: TestClient, clock: FixedClock) -> None:
    outcomes = []
    for password in ["wrong-password"] * 2 + ["jiesu-demo"] + ["wrong-password"] * 2:
        clock.advance(timedelta(seconds=5))
        outcomes.append(login(strict, "agent", password))
    clock.advance(timedelta(seconds=5))
    assert outcomes == [401, 401, 200, 401, 401] and login(strict, "agent") == 200


def test_one_client_spraying_usernames_is_locked(strict: TestClient) -> None:
    for name in ("agent", "dispatcher", "callback", "leader", "admin"):
        assert login(strict, name, "wrong-password") == 401
    assert login(strict, "analyst") == 429  # right password, but this address is locked


def test_unknown_username_counts_too(strict: TestClient) -> None:
    assert [login(strict, "nobody", "x" * 12) for _ in range(3)] == [401, 401, 401]
    assert login(strict, "nobody", "x" * 12) == 429


def test_revoke_this_token_and_all_tokens(client: TestClient) -> None:
    first, second = auth(client, "agent"), auth(client, "agent")
    assert client.get("/api/v1/auth/me", headers=first).status_code == 200
    resp = client.post("/api/v1/auth/revoke", headers=first)
    assert resp.status_code == 200 and resp.json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", headers=first).status_code == 401
    assert client.get("/api/v1/auth/me", headers=second).status_code == 200
    third = auth(client, "agent")
    resp = client.post("/api/v1/auth/revoke", json={"all": True}, headers=third)
    assert resp.json() == {"revoked": 2}
    for h in (second, third):
        assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    assert client.post("/api/v1/auth/revoke").status_code == 401


@pytest.mark.parametrize(
    "password,problem",
    [
        ("short-1", "at least 10 characters"),
        ("1234567890123", "not only digits"),
        ("Wang.Xiaoming", "must not be the username"),
    ],
)
def test_password_policy(db: Database, password: str, problem: str) -> None:
    with db.uow() as uow, pytest.raises(InvalidInput, match=problem):
        create_user(
            uow.session,
            username="wang.xiaoming",
            password=password,
            role="agent",
            unit_code=None,
            now=T0,
        )


def test_policy_accepts_a_good_password_and_the_demo_one(client: TestClient, db: Database) -> None:
    with db.uow() as uow:
        create_user(
            uow.session, username="li", password="绿色-hotline-2026", role="agent",
            unit_code=None, now=T0,
        )  # fmt: skip
        uow.commit()
    assert login(client, "li", "绿色-hotline-2026") == 200
    assert login(client, "agent", "jiesu-demo") == 200  # the demo logins still work


def test_api_security_headers(client: TestClient) -> None:
    h = auth(client, "agent")
    resp = client.get("/api/v1/cases", headers=h)
    assert resp.status_code == 200
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"
    public = client.get("/api/v1/health")
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    token = client.post(TOKEN, data={"username": "agent", "password": "jiesu-demo"})
    assert token.headers["Cache-Control"] == "no-store"
    # The consoles keep their own policy from jiesu.web.setup.
    page = client.get("/login")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
