"""Triage through the API: proposals while registering, stored with the case, duplicates
offered for a one-action merge, and the dispatcher's corrections recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiesu.settings import get_settings
from jiesu.triage import classifier
from jiesu.triage.model_store import save_model
from tests.helpers import STREET, auth

TEXT = "东华门街道幸福里小区3号楼楼道里闻到很浓的燃气味，怀疑燃气泄漏，请马上派人处理。"


def triage(client: TestClient, who: dict[str, str], **body: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/triage", json=body, headers=who)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def test_proposal_without_a_model(client: TestClient) -> None:
    agent = auth(client, "agent")
    p = triage(client, agent, text=TEXT)
    assert p["urgency"]["value"] == "urgent" and p["urgency"]["reasons"]
    assert p["place"]["street_code"] == STREET and p["place"]["district_code"] == "110101"
    assert p["model_version"] is None  # keyword proposals only
    assert p["categories"], "keyword proposals for a centre without history"
    assert p["unit"]["lead_unit"] and p["unit"]["rule"]
    assert p["latency_ms"] >= 0


def test_ambiguous_place_and_coordinates(client: TestClient) -> None:
    agent = auth(client, "agent")
    p = triage(client, agent, text="八里庄街道一小区门口垃圾堆积")
    assert p["place"]["ambiguous"] is True and len(p["place"]["candidates"]) == 2
    # 天安门 (WGS-84) lies in 东城区.
    q = triage(client, agent, text="路灯不亮", lat=39.9087, lon=116.3975)
    assert q["place"]["district_code"] == "110101"


def test_emergency_is_flagged_for_transfer(client: TestClient) -> None:
    p = triage(client, auth(client, "agent"), text="楼下着火了，火很大，有人被困")
    assert p["emergency"]["number"] == "119"


def test_register_stores_the_proposal_and_dispatch_corrects(client: TestClient) -> None:
    agent, disp = auth(client, "agent"), auth(client, "dispatcher")
    body = {
        "text": TEXT,
        "request_type": "help",
        "street": STREET,
        "citizen": {"name": "张伟", "phone": "13900002222"},
    }
    case = client.post("/api/v1/cases", json=body, headers=agent).json()
    assert case["triage"]["urgency"]["value"] == "urgent"
    assert case["triage"]["proposed_at"]
    fixed = client.post(
        f"/api/v1/cases/{case['id']}/dispatch",
        json={"category": "010301", "urgency": "urgent", "lead_unit": STREET},
        headers=disp,
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["category"] == "010301" and fixed.json()["urgency"] == "urgent"
    events = client.get(f"/api/v1/cases/{case['id']}/events", headers=disp).json()
    assert events[-1]["payload"]["category"] == {"from": None, "to": "010301"}
    unit = auth(client, f"unit-{STREET}")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=unit).json()["triage"] is None


def test_duplicate_offered_then_merged_in_one_action(client: TestClient) -> None:
    agent, disp = auth(client, "agent"), auth(client, "dispatcher")
    first = client.post(
        "/api/v1/cases",
        json={
            "text": "东华门街道幸福里小区3号楼门前下水道堵塞，污水漫到路面",
            "request_type": "complaint",
            "street": STREET,
        },
        headers=agent,
    ).json()
    second = client.post(
        "/api/v1/cases",
        json={
            "text": "东华门街道幸福里小区3号楼门口下水道堵了，污水漫到路上",
            "request_type": "complaint",
            "street": STREET,
        },
        headers=agent,
    ).json()
    dups = second["triage"]["duplicates"]
    assert dups and dups[0]["case_id"] == first["id"] and dups[0]["score"] > 0.25
    merged = client.post(
        f"/api/v1/cases/{second['id']}/merge", json={"into": first["id"]}, headers=disp
    )
    assert merged.status_code == 200 and merged.json()["status"] == "merged"


def test_only_centre_roles_triage(client: TestClient) -> None:
    unit = auth(client, f"unit-{STREET}")
    resp = client.post("/api/v1/triage", json={"text": "噪音"}, headers=unit)
    assert resp.status_code == 403
    bad = client.post("/api/v1/triage", json={"text": ""}, headers=auth(client, "agent"))
    assert bad.status_code == 422


def test_live_model_is_used(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["小区物业乱收费", "物业服务差", "学校乱收费", "孩子入学难"] * 5
    labels = ["住房", "住房", "教育", "教育"] * 5
    model = classifier.train(texts, labels, seed=0)
    save_model(model, tmp_path / "model")
    monkeypatch.setenv("JIESU_MODEL_DIR", str(tmp_path / "model"))
    get_settings.cache_clear()  # settings are read once per process
    try:
        p = triage(client, auth(client, "agent"), text="物业乱收费，服务也差")
    finally:
        get_settings.cache_clear()
    assert p["model_version"] == model.version
    assert p["categories"][0]["code"] == "01"  # 住房 by name in the taxonomy
