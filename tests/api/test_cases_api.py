"""The JSON API end to end: login, register, every action, errors, scoping, masking."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import OTHER_STREET, STREET, auth

REGISTER = {
    "text": "东华门街道幸福里小区夜间施工噪音扰民，希望处理。",
    "request_type": "complaint",
    "category": "050101",
    "address": "东华门街道幸福里3号楼",
    "street": STREET,
    "channel": "phone",
    "citizen": {"name": "王芳", "phone": "13812345678"},
}


def post(client: TestClient, who: dict[str, str], path: str, body: Any = None) -> Any:
    resp = client.post(f"/api/v1{path}", json=body, headers=who)
    return resp


def new_case(client: TestClient, agent: dict[str, str]) -> dict[str, Any]:
    resp = post(client, agent, "/cases", REGISTER)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/cases/{case_id}/whistle" in spec["paths"]
    body = spec["paths"]["/api/v1/cases/{case_id}/whistle"]["post"]["requestBody"]
    assert "WhistleIn" in str(body)
    # 422 is documented as the body the API really sends.
    documented = spec["components"]["schemas"]["HTTPValidationError"]
    assert documented["required"] == ["error"]
    sent = client.post("/api/v1/cases", json={}, headers=auth(client, "agent")).json()
    assert set(sent) == {"error"} and {"code", "message"} <= set(sent["error"])


def test_login_errors(client: TestClient) -> None:
    bad = client.post("/api/v1/auth/token", data={"username": "agent", "password": "wrong-pass"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/cases").status_code == 401
    nope = client.get("/api/v1/cases", headers={"Authorization": "Bearer not-a-token"})
    assert nope.status_code == 401


def test_whole_lifecycle_over_http(client: TestClient) -> None:
    agent, disp, unit, cb = (
        auth(client, "agent"),
        auth(client, "dispatcher"),
        auth(client, f"unit-{STREET}"),
        auth(client, "callback"),
    )
    case = new_case(client, agent)
    cid = case["id"]
    assert case["status"] == "registered" and case["version"] == 1
    assert case["contact_due"] is None and "dispatch" in case["allowed_actions"]
    steps: list[tuple[dict[str, str], str, dict[str, Any]]] = [
        (disp, "dispatch", {"lead_unit": STREET, "co_units": ["D003"], "version": 1}),
        (unit, "acknowledge", {}),
        (unit, "contact", {"note": "已电话联系"}),
        (unit, "reply", {"text": "已协调施工方夜间停工"}),
        (cb, "callback", {"contacted": True, "resolved": "yes", "satisfaction": "basically"}),
    ]
    for who, action, body in steps:
        resp = post(client, who, f"/cases/{cid}/{action}", body)
        assert resp.status_code == 200, (action, resp.text)
    final = resp.json()
    assert final["status"] == "closed"
    assert final["lead_unit"] == STREET and final["co_units"] == ["D003"]
    assert final["contact_due"] and final["reply_due"] and final["callback_due"]
    events = client.get(f"/api/v1/cases/{cid}/events", headers=disp).json()
    assert [e["action"] for e in events] == ["register"] + [a for _, a, _ in steps]
    assert events[-1]["payload"]["satisfaction"] == "basically"


def test_illegal_action_is_409_with_allowed_actions(client: TestClient) -> None:
    agent = auth(client, "agent")
    cid = new_case(client, agent)["id"]
    resp = post(client, auth(client, "dispatcher"), f"/cases/{cid}/reply", {"text": "x"})
    assert resp.status_code == 409
    err = resp.json()["error"]
    assert err["code"] == "illegal_action"
    assert err["details"]["status"] == "registered"
    assert set(err["details"]["allowed_actions"]) >= {"dispatch", "answer", "merge"}


def test_stale_version_is_409(client: TestClient) -> None:
    agent, disp = auth(client, "agent"), auth(client, "dispatcher")
    cid = new_case(client, agent)["id"]
    ok = post(client, disp, f"/cases/{cid}/dispatch", {"lead_unit": STREET, "version": 1})
    assert ok.status_code == 200
    stale = post(client, disp, f"/cases/{cid}/reassign", {"lead_unit": OTHER_STREET, "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_version"
    assert client.get(f"/api/v1/cases/{cid}", headers=disp).json()["lead_unit"] == STREET


def test_bad_input_gets_clear_4xx(client: TestClient) -> None:
    agent = auth(client, "agent")
    missing = post(client, agent, "/cases", {"request_type": "complaint"})
    assert missing.status_code == 422
    err = missing.json()["error"]
    assert err["code"] == "invalid_input" and "text" in err["message"]
    wrong_type = post(client, agent, "/cases", {**REGISTER, "request_type": "rant"})
    assert wrong_type.status_code == 422 and "request_type" in wrong_type.json()["error"]["message"]
    unknown_cat = post(client, agent, "/cases", {**REGISTER, "category": "999999"})
    assert unknown_cat.status_code == 422
    assert "unknown category" in unknown_cat.json()["error"]["message"]
    mismatch = post(client, agent, "/cases", {**REGISTER, "district": "110102"})
    assert mismatch.status_code == 422 and "lies in district" in mismatch.json()["error"]["message"]
    extra = post(client, agent, "/cases", {**REGISTER, "status": "closed"})
    assert extra.status_code == 422
    not_json = client.post(
        "/api/v1/cases", content=b"\xff\xfe{", headers={**agent, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"]["message"]
    cid = new_case(client, agent)["id"]
    no_reason = post(client, auth(client, "dispatcher"), f"/cases/{cid}/terminate", {})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["message"]
    assert client.get("/api/v1/cases/999999", headers=agent).status_code == 404
    assert client.get("/api/v1/cases/abc", headers=agent).status_code == 422
    big = client.get("/api/v1/cases?page_size=100000", headers=agent)
    assert big.status_code == 422
    # None of these wrote a case.
    assert client.get("/api/v1/cases", headers=agent).json()["total"] == 1


def test_unit_sees_only_its_own_cases_and_masked_phones(client: TestClient) -> None:
    agent, disp = auth(client, "agent"), auth(client, "dispatcher")
    mine = new_case(client, agent)["id"]
    theirs = new_case(client, agent)["id"]
    post(client, disp, f"/cases/{mine}/dispatch", {"lead_unit": STREET})
    post(client, disp, f"/cases/{theirs}/dispatch", {"lead_unit": OTHER_STREET})
    unit = auth(client, f"unit-{STREET}")
    listing = client.get("/api/v1/cases", headers=unit).json()
    assert [c["id"] for c in listing["items"]] == [mine]
    assert client.get(f"/api/v1/cases/{theirs}", headers=unit).status_code == 404
    assert client.get(f"/api/v1/cases/{theirs}/events", headers=unit).status_code == 404
    assert post(client, unit, f"/cases/{theirs}/acknowledge").status_code == 404
    seen = client.get(f"/api/v1/cases/{mine}", headers=unit).json()
    assert seen["citizen"] == {"name": "王*", "phone": "138****5678"}
    assert "13812345678" not in client.get(f"/api/v1/cases/{mine}/events", headers=unit).text
    full = client.get(f"/api/v1/cases/{mine}", headers=disp).json()
    assert full["citizen"]["phone"] == "13812345678"


def test_role_checks(client: TestClient) -> None:
    unit = auth(client, f"unit-{STREET}")
    assert post(client, unit, "/cases", REGISTER).status_code == 409
    leader = auth(client, "leader")
    cid = new_case(client, auth(client, "agent"))["id"]
    resp = post(client, leader, f"/cases/{cid}/dispatch", {"lead_unit": STREET})
    assert resp.status_code == 409 and resp.json()["error"]["details"]["allowed_actions"] == [
        "terminate"
    ]


def test_list_filters_and_pages(client: TestClient) -> None:
    agent, disp = auth(client, "agent"), auth(client, "dispatcher")
    ids = [new_case(client, agent)["id"] for _ in range(5)]
    post(client, disp, f"/cases/{ids[0]}/dispatch", {"lead_unit": STREET})
    page = client.get("/api/v1/cases?page_size=2&page=2", headers=disp).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    dispatched = client.get("/api/v1/cases?status=dispatched", headers=disp).json()
    assert [c["id"] for c in dispatched["items"]] == [ids[0]]
    by_unit = client.get(f"/api/v1/cases?unit={STREET}", headers=disp).json()
    assert by_unit["total"] == 1
    by_cat = client.get("/api/v1/cases?category=05", headers=disp).json()
    assert by_cat["total"] == 5
    later = client.get(
        "/api/v1/cases", params={"created_from": "2030-01-01T00:00:00+08:00"}, headers=disp
    ).json()
    assert later["total"] == 0
    naive = client.get(
        "/api/v1/cases", params={"created_from": "2026-01-01T00:00:00"}, headers=disp
    )
    assert naive.status_code == 422
    bad_status = client.get("/api/v1/cases?status=lost", headers=disp)
    assert bad_status.status_code == 422


def test_units_and_categories(client: TestClient) -> None:
    who = auth(client, "agent")
    streets = client.get("/api/v1/units?kind=street", headers=who).json()
    assert len(streets) == 343
    assert sum(1 for u in streets if u["name"] == "八里庄街道") == 2
    districts = client.get("/api/v1/units?kind=district", headers=who).json()
    assert len(districts) == 16
    top = client.get("/api/v1/categories?level=1", headers=who).json()
    names = {c["name"] for c in top}
    assert {"住房", "城乡建设", "教育", "环境保护", "医疗卫生"} <= names
