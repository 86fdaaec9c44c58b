"""No loss, no doubles: Idempotency-Key on the native API and identical Open311 retries.
(Concurrent retries over real HTTP: tests/api/test_open311_client.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.cases.models import Case, CaseEvent
from jiesu.clock import FixedClock
from jiesu.open311.keys import create_key
from tests.conftest import T0, Database
from tests.helpers import auth

BODY = {
    "text": "景山街道某小区供暖不热，室温 15 度",
    "request_type": "complaint",
    "category": "170401",
    "street": "110101002",
    "citizen": {"name": "李雷", "phone": "13800001111"},
}


def counts(db: Database) -> tuple[int, int]:
    with db.engine.connect() as conn:
        cases = conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one()
        events = conn.execute(sa.select(sa.func.count()).select_from(CaseEvent)).scalar_one()
    return int(cases), int(events)


def submit(client: TestClient, headers: dict[str, str], key: str | None, **change: Any) -> Any:
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/cases", json={**BODY, **change}, headers={**headers, **extra})


def test_a_retry_returns_the_first_result_and_writes_nothing(
    client: TestClient, db: Database
) -> None:
    agent = auth(client, "agent")
    first = submit(client, agent, "k-1")
    assert first.status_code == 201 and first.headers["Idempotent-Replayed"] == "false"
    # Key order and a re-serialised body are the same request.
    again = client.post(
        "/api/v1/cases",
        json=dict(reversed(list(BODY.items()))),
        headers={**agent, "Idempotency-Key": "k-1"},
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert counts(db) == (1, 1)
    assert submit(client, agent, None).json()["id"] != first.json()["id"]


def test_same_key_with_another_body_is_refused(client: TestClient, db: Database) -> None:
    agent = auth(client, "agent")
    assert submit(client, agent, "k-2").status_code == 201
    resp = submit(client, agent, "k-2", text="另一条诉求")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "idempotency_key_reused"
    assert "different request body" in resp.json()["error"]["message"]
    assert counts(db) == (1, 1)


def test_keys_are_per_user_and_bad_keys_are_422(client: TestClient, db: Database) -> None:
    a = submit(client, auth(client, "agent"), "shared").json()["id"]
    b = submit(client, auth(client, "dispatcher"), "shared").json()["id"]
    assert a != b
    for bad in ("x" * 201, "", "a\tb"):
        resp = submit(client, auth(client, "agent"), bad)
        assert resp.status_code == 422 and "Idempotency-Key" in resp.json()["error"]["message"]
    assert counts(db) == (2, 2)


def test_a_refused_first_attempt_is_not_remembered(client: TestClient, db: Database) -> None:
    agent = auth(client, "agent")
    bad = submit(client, agent, "k-3", category="999999")
    assert bad.status_code == 422
    assert counts(db) == (0, 0)
    assert submit(client, agent, "k-3").status_code == 201


@pytest.fixture
def open311_key(db: Database) -> Iterator[str]:
    with db.uow() as uow:
        key = create_key(uow.session, "retry-app", T0)
        uow.commit()
    yield key
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM open311_client"))


def test_open311_identical_retry_within_ten_minutes_is_the_same_request(
    client: TestClient, db: Database, clock: FixedClock, open311_key: str
) -> None:
    form = {
        "api_key": open311_key,
        "service_code": "050403",
        "address_string": "东华门大街 12 号",
        "description": "路灯不亮",
    }

    def post(**change: str) -> tuple[int, str]:
        resp = client.post("/open311/v2/requests.json", data={**form, **change})
        return resp.status_code, resp.json()[0]["service_request_id"]

    status, first = post()
    assert status == 201
    clock.advance(timedelta(minutes=9))
    assert post(description="  路灯不亮 ") == (200, first)  # spacing is normalised
    assert post(description="路灯不亮，已经三天")[1] != first
    clock.advance(timedelta(minutes=2))
    status, later = post()
    assert status == 201 and later != first  # the same words after the window: a new report
    assert counts(db)[0] == 3
