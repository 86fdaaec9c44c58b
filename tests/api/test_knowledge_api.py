"""Agent intake: the knowledge base (search, admin CRUD, seed), answering a consultation from
an article, and the repeat-caller lookup. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from tests.conftest import Database
from tests.helpers import STREET, auth

CONSULT = {
    "text": "来电咨询：租房住，想提取住房公积金付房租，需要什么材料？",
    "request_type": "inquiry",
    "street": STREET,
    "channel": "phone",
    "citizen": {"name": "李强", "phone": "13900001111"},
}


@pytest.fixture
def kb(client: TestClient, db: Database) -> Iterator[TestClient]:
    yield client
    if db.backend == "postgresql":  # articles are not among the tables truncated per test
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM knowledge_article"))


def _article(title: str, body: str = "正文。", keywords: str = "", **more: Any) -> dict[str, Any]:
    return {"title": title, "body": body, "keywords": keywords, **more}


def test_ranking_title_over_keywords_over_body(kb: TestClient) -> None:
    admin = auth(kb, "admin")
    for body in (
        _article("C 正文提到", body="这里说到养老金认证的事。"),
        _article("A 标题：养老金认证", body="办理说明。"),
        _article("B 关键词", body="办理说明。", keywords="养老金认证 刷脸"),
    ):
        assert kb.post("/api/v1/knowledge", json=body, headers=admin).status_code == 201
    hits = kb.get("/api/v1/knowledge", params={"q": "养老金认证"}, headers=auth(kb, "agent"))
    assert [h["title"][0] for h in hits.json()] == ["A", "B", "C"]


def test_admin_crud_and_refusals(kb: TestClient, clock: FixedClock) -> None:
    admin, agent = auth(kb, "admin"), auth(kb, "agent")
    body = _article("取暖补贴发放", keywords="采暖费", category="170403")
    assert kb.post("/api/v1/knowledge", json=body, headers=agent).status_code == 403
    made = kb.post("/api/v1/knowledge", json=body, headers=admin)
    assert made.status_code == 201
    art = made.json()
    dup = kb.post("/api/v1/knowledge", json=body, headers=admin)
    assert dup.status_code == 409 and "title" in dup.json()["error"]["message"]
    bad = kb.post(
        "/api/v1/knowledge", json={**body, "title": "x", "category": "nope"}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("category")
    empty = kb.post("/api/v1/knowledge", json={"title": "", "body": "b"}, headers=admin)
    assert empty.status_code == 422 and empty.json()["error"]["details"][0]["field"] == "title"
    clock.advance(timedelta(hours=1))
    changed = kb.put(
        f"/api/v1/knowledge/{art['id']}", json={**body, "body": "新标准。"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["body"] == "新标准。"
    assert changed.json()["updated_at"] > art["updated_at"]
    assert kb.delete(f"/api/v1/knowledge/{art['id']}", headers=agent).status_code == 403
    assert kb.delete(f"/api/v1/knowledge/{art['id']}", headers=admin).status_code == 204
    assert kb.get("/api/v1/knowledge", params={"q": "取暖"}, headers=agent).json() == []
    kept = kb.get(f"/api/v1/knowledge/{art['id']}", headers=admin).json()
    assert kept["active"] is False  # retired, kept for its manager (and the cases citing it)
    assert kb.put("/api/v1/knowledge/999999", json=body, headers=admin).status_code == 404


def test_retired_article_is_gone_for_everyone_but_its_managers(kb: TestClient) -> None:
    # Withdrawn guidance must not reach a citizen through an agent following an old link:
    # after retirement the article answers 404 to every reader, as if it never existed.
    admin = auth(kb, "admin")
    made = kb.post("/api/v1/knowledge", json=_article("旧版养老补贴标准"), headers=admin).json()
    readers = ["agent", "dispatcher", "callback", "leader", "analyst", "unit-110101001"]
    for username in readers:
        got = kb.get(f"/api/v1/knowledge/{made['id']}", headers=auth(kb, username))
        assert got.status_code == 200, username
    assert kb.delete(f"/api/v1/knowledge/{made['id']}", headers=admin).status_code == 204
    for username in readers:
        headers = auth(kb, username)
        gone = kb.get(f"/api/v1/knowledge/{made['id']}", headers=headers)
        assert gone.status_code == 404, username
        assert "旧版" not in gone.text
        found = kb.get("/api/v1/knowledge", params={"q": "养老补贴"}, headers=headers)
        assert found.status_code == 200 and found.json() == []
        listed = kb.get("/api/v1/knowledge", params={"include_inactive": "true"}, headers=headers)
        assert listed.status_code == 403
    back = kb.get(f"/api/v1/knowledge/{made['id']}", headers=admin)
    assert back.status_code == 200 and back.json()["active"] is False
    hits = kb.get("/api/v1/knowledge", params={"include_inactive": "true"}, headers=admin).json()
    assert [h["id"] for h in hits] == [made["id"]]


def test_consultation_answered_from_an_article_records_it(kb: TestClient) -> None:
    admin, agent = auth(kb, "admin"), auth(kb, "agent")
    art = kb.post(
        "/api/v1/knowledge", json=_article("租房提取公积金", category="010801"), headers=admin
    ).json()
    case = kb.post("/api/v1/cases", json=CONSULT, headers=agent).json()
    wrong = kb.post(
        f"/api/v1/cases/{case['id']}/answer",
        json={"text": "请按文章办理", "article_id": 999999},
        headers=agent,
    )
    assert wrong.status_code == 422 and "article_id" in wrong.json()["error"]["message"]
    assert kb.get(f"/api/v1/cases/{case['id']}", headers=agent).json()["status"] == "registered"
    done = kb.post(
        f"/api/v1/cases/{case['id']}/answer",
        json={"text": "可网上申请，需身份证和租赁合同。", "article_id": art["id"]},
        headers=agent,
    )
    assert done.status_code == 200 and done.json()["status"] == "answered"
    events = kb.get(f"/api/v1/cases/{case['id']}/events", headers=agent).json()
    assert events[-1]["action"] == "answer"
    assert events[-1]["payload"]["article_id"] == art["id"]


def test_repeat_caller_sees_earlier_cases_newest_first(kb: TestClient, clock: FixedClock) -> None:
    agent = auth(kb, "agent")
    ids = []
    for text in ("第一次来电", "第二次来电", "第三次来电"):
        ids.append(
            kb.post("/api/v1/cases", json={**CONSULT, "text": text}, headers=agent).json()["id"]
        )
        clock.advance(timedelta(hours=2))
    other = {**CONSULT, "citizen": {"name": "张三", "phone": "13700002222"}}
    kb.post("/api/v1/cases", json=other, headers=agent)
    page = kb.get("/api/v1/cases", params={"phone": "13900001111"}, headers=agent).json()
    assert [c["id"] for c in page["items"]] == ids[::-1] and page["total"] == 3
