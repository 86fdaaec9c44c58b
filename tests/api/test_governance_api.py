"""Governance JSON API: reply quality for a live case, 七有五性 and hot topics over the lake."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete

from jiesu.analytics.export import refresh
from jiesu.assessment.models import AssessmentPolicy
from jiesu.clock import FixedClock
from tests.conftest import Database
from tests.helpers import CALLBACK, TZ, auth, do, register, to_replied

REQUEST = "东华门街道幸福里小区楼道堆物堵塞消防通道，希望尽快清理。"
REPLY = (
    "经核实，东华门街道已于10月14日组织物业清理幸福里小区楼道堆物，消防通道已畅通。"
    "根据《北京市消防条例》规定，下一步将每周巡查，如有疑问请拨打010-12345678。"
)


def test_reply_quality_scores_a_reply_with_reasons(client: TestClient) -> None:
    who = auth(client, "callback")
    body = {
        "request": REQUEST,
        "reply": REPLY,
        "requested_at": "2026-10-12T10:00:00+08:00",
        "replied_at": "2026-10-14T16:00:00+08:00",
    }
    resp = client.post("/api/v1/governance/reply-quality", json=body, headers=who)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["grade"] in ("A", "B") and got["elements"]["basis"] is True
    assert got["delay_days"] == 2.2


def test_reply_quality_refuses_bad_input_clearly(client: TestClient) -> None:
    who = auth(client, "analyst")
    naive = {
        "request": REQUEST,
        "reply": REPLY,
        "requested_at": "2026-10-12T10:00:00",
        "replied_at": "2026-10-14T16:00:00+08:00",
    }
    resp = client.post("/api/v1/governance/reply-quality", json=naive, headers=who)
    assert resp.status_code == 422
    assert "requested_at" in resp.json()["error"]["message"]
    empty = client.post(
        "/api/v1/governance/reply-quality", json={"request": REQUEST, "reply": ""}, headers=who
    )
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid_input"


def test_units_cannot_read_governance(client: TestClient) -> None:
    resp = client.get("/api/v1/governance/livelihood/2026-10", headers=auth(client, "agent"))
    assert resp.status_code == 403


def test_livelihood_and_topics_over_the_lake(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    leader = auth(client, "leader")
    lake = tmp_path / "lake"
    client.app.state.settings.lake_dir = str(lake)  # type: ignore[attr-defined]
    missing = client.get("/api/v1/governance/livelihood/2026-10", headers=leader)
    assert missing.status_code == 404 and "analytics refresh" in missing.json()["error"]["message"]
    for _ in range(3):
        case = register(db, clock)
        to_replied(db, clock, case.id)
        body = {"contacted": True, "resolved": "yes", "satisfaction": "satisfied"}
        do(db, clock, CALLBACK, case.id, "callback", **body)
    with db.factory() as session:
        refresh(session, lake, TZ, clock.now())
    leader = auth(client, "leader")  # building the cases moved the clock past the token
    resp = client.get("/api/v1/governance/livelihood/2026-10", headers=leader)
    assert resp.status_code == 200, resp.text
    rows = {r["dimension"]: r for r in resp.json()["dimensions"]}
    assert sum(r["cases"] for r in rows.values()) == 3
    assessed = [r for r in rows.values() if r["assessed"]]
    assert sum(r["assessed"] for r in assessed) == 3
    assert all(r["resolution_rate"] == 1.0 for r in assessed)
    bad = client.get("/api/v1/governance/livelihood/2026-13", headers=leader)
    assert bad.status_code == 422
    topics = client.get("/api/v1/governance/topics/2026-10?top=3", headers=leader)
    assert topics.status_code == 200, topics.text
    first = topics.json()["topics"][0]
    assert len(first["message_ids"]) == 3  # the same text three times is one topic


def test_livelihood_rates_follow_the_configured_factors(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # 部分解决 and 基本满意 count what the centre's policy says, as in the assessment itself.
    for resolved, satisfaction in (("yes", "satisfied"), ("partly", "basically")):
        case = register(db, clock)
        to_replied(db, clock, case.id)
        body = {"contacted": True, "resolved": resolved, "satisfaction": satisfaction}
        do(db, clock, CALLBACK, case.id, "callback", **body)
    lake = tmp_path / "lake"
    client.app.state.settings.lake_dir = str(lake)  # type: ignore[attr-defined]
    with db.factory() as session:
        refresh(session, lake, TZ, clock.now())
    policy = AssessmentPolicy(
        unit_kind="*",
        effective_from="2026-01",
        response_weight=Decimal("0.1"),
        resolution_weight=Decimal("0.45"),
        satisfaction_weight=Decimal("0.45"),
        basically_factor=Decimal("0.5"),
        partly_factor=Decimal("0.5"),
        min_cases=1,
    )
    with db.uow() as uow:
        uow.session.add(policy)
        uow.commit()
        added = policy.id
    try:
        resp = client.get("/api/v1/governance/livelihood/2026-10", headers=auth(client, "leader"))
        assert resp.status_code == 200, resp.text
        (row,) = [r for r in resp.json()["dimensions"] if r["assessed"]]
        # (1 + 0.5) / 2 each; the old fixed formula said 0.5 and 0.8.
        assert (row["resolution_rate"], row["satisfaction_rate"]) == (0.75, 0.75)
    finally:  # on PostgreSQL the policy table outlives the test
        with db.uow() as uow:
            uow.session.execute(delete(AssessmentPolicy).where(AssessmentPolicy.id == added))
            uow.commit()
