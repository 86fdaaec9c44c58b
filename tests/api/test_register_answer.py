"""The 201 of a registration is built from the case just committed, without reading it back:
it must say exactly what a later GET says, and the place checks done in one query must refuse
what the one-at-a-time checks refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiesu.audit.verify import verify
from tests.conftest import Database
from tests.helpers import DISTRICT, STREET, auth

BODY: dict[str, Any] = {
    "text": "东华门街道幸福里小区夜间施工噪音扰民，希望处理。",
    "request_type": "complaint",
    "category": "050101",
    "address": "东华门街道幸福里3号楼",
    "street": STREET,
    "citizen": {"name": "王芳", "phone": "13812345678"},
}


@pytest.mark.parametrize("key", [None, "answer-1"])
def test_the_201_is_what_a_get_says(client: TestClient, key: str | None) -> None:
    agent = auth(client, "agent")
    extra = {"Idempotency-Key": key} if key else {}
    first = client.post("/api/v1/cases", json=BODY, headers={**agent, **extra})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["district"] == DISTRICT and body["triage"] is not None
    assert body["co_units"] == [] and body["tasks"] == []
    assert client.get(f"/api/v1/cases/{body['id']}", headers=agent).json() == body
    if key:
        again = client.post("/api/v1/cases", json=BODY, headers={**agent, **extra})
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == body


def test_the_first_event_starts_a_valid_chain(client: TestClient, db: Database) -> None:
    agent = auth(client, "agent")
    ids = [client.post("/api/v1/cases", json=BODY, headers=agent).json()["id"] for _ in range(3)]
    dispatcher = auth(client, "dispatcher")
    resp = client.post(
        f"/api/v1/cases/{ids[0]}/dispatch", json={"lead_unit": STREET}, headers=dispatcher
    )
    assert resp.status_code == 200
    events = client.get(f"/api/v1/cases/{ids[0]}/events", headers=dispatcher).json()
    assert [e["action"] for e in events] == ["register", "dispatch"]
    with db.engine.connect() as conn:
        report = verify(conn)
    assert report.cases == 3 and report.events == 4 and report.problems == []


@pytest.mark.parametrize(
    "place,message",
    [
        ({"street": "999999999"}, "street: unknown unit code '999999999'"),
        ({"street": DISTRICT}, f"street: '{DISTRICT}' is a district, expected street"),
        ({"street": None, "district": STREET}, f"district: '{STREET}' is a street"),
        ({"street": None, "district": "999999"}, "district: unknown unit code '999999'"),
        ({"district": "110102"}, f"street '{STREET}' lies in district '{DISTRICT}'"),
    ],
)
def test_place_checks_refuse_with_the_field_named(
    client: TestClient, place: dict[str, Any], message: str
) -> None:
    resp = client.post("/api/v1/cases", json={**BODY, **place}, headers=auth(client, "agent"))
    assert resp.status_code == 422
    assert resp.json()["error"]["message"].startswith(message)


def test_a_district_alone_or_with_its_street_is_kept(client: TestClient) -> None:
    agent = auth(client, "agent")
    alone = client.post(
        "/api/v1/cases", json={**BODY, "street": None, "district": DISTRICT}, headers=agent
    )
    both = client.post("/api/v1/cases", json={**BODY, "district": DISTRICT}, headers=agent)
    assert (alone.status_code, alone.json()["district"], alone.json()["street"]) == (
        201,
        DISTRICT,
        None,
    )
    assert (both.status_code, both.json()["district"], both.json()["street"]) == (
        201,
        DISTRICT,
        STREET,
    )
