"""Each console's forms through the real services, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from jiesu.clock import FixedClock
from tests.api.pages_helpers import form_token, login, post, shown, track
from tests.conftest import Database
from tests.helpers import STREET, register, to_replied

CREATED = re.compile(r'id="created-case">(\d+)<')


def _register_by_page(client: TestClient, token: str, **extra: str) -> int:
    data = {
        "text": "东华门街道幸福里小区路灯不亮，晚上出行不便。",
        "request_type": "complaint",
        "category": "050101",
        "street": STREET,
        "phone": "13812345678",
        "name": "王芳",
        **extra,
    }
    resp = post(client, "/agent/register", token, **data)
    assert resp.status_code == 303, resp.text  # type: ignore[attr-defined]
    page = client.get(resp.headers["location"])  # type: ignore[attr-defined]
    m = CREATED.search(page.text)
    assert m, page.text
    return int(m.group(1))


def test_call_to_callback_through_the_consoles(client: TestClient) -> None:
    token = login(client, "agent")
    case_id = _register_by_page(client, token)

    client.cookies.clear()
    token = login(client, "dispatcher")
    queue = client.get("/dispatcher").text
    assert f"<strong>{case_id}</strong>" in queue
    assert "派至" in queue  # the routing proposal, one click
    lead = re.search(rf'/case/{case_id}/dispatch">.*?name="lead_unit" value="(\w+)"', queue, re.S)
    assert lead
    resp = post(client, f"/case/{case_id}/dispatch", token, lead_unit=STREET, next="/dispatcher")
    assert f"{case_id}" in shown(client, resp)["ok"]

    client.cookies.clear()
    token = login(client, f"unit-{STREET}")
    assert f"/unit/case/{case_id}" in client.get("/unit").text
    page = client.get(f"/unit/case/{case_id}").text
    assert "138****5678" in page and "13812345678" not in page  # masked for units
    here = f"/unit/case/{case_id}"
    # Replying before contact is refused with the rule's reason, not a 500.
    early = client.post(
        f"/case/{case_id}/reply",
        data={"csrf_token": token, "text": "已修复", "next": here},
        headers={"HX-Request": "true"},
    )
    assert early.status_code == 409
    assert "不能执行此操作" in early.text
    for action, data in [
        ("acknowledge", {}),
        ("contact", {"note": "电话联系"}),
        ("reply", {"text": "已更换灯泡，路灯恢复。"}),
    ]:
        resp = post(client, f"/case/{case_id}/{action}", token, next=here, **data)
        assert "ok" in shown(client, resp), action
    assert "已办结反馈" in client.get(here).text

    client.cookies.clear()
    token = login(client, "callback")
    assert f"/callback/case/{case_id}" in client.get("/callback").text
    assert "回访话术" in client.get(f"/callback/case/{case_id}").text
    resp = post(
        client,
        f"/callback/case/{case_id}",
        token,
        contacted="yes",
        resolved="yes",
        satisfaction="satisfied",
    )
    assert "回访" in shown(client, resp)["ok"]
    assert f"/callback/case/{case_id}" not in client.get("/callback").text


def test_agent_form_errors_keep_the_words_and_name_the_field(client: TestClient) -> None:
    token = login(client, "agent")
    resp = post(
        client, "/agent/register", token, text="井盖丢失", request_type="complaint", street="999"
    )
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert "street" in resp.text and "井盖丢失" in resp.text  # type: ignore[attr-defined]


def test_agent_answers_a_consultation_at_once(client: TestClient) -> None:
    token = login(client, "agent")
    case_id = _register_by_page(
        client,
        token,
        request_type="inquiry",
        category="",
        street="",
        text="请问社保卡怎么补办？",
        answer="携带身份证到社保经办机构补办。",
    )
    client.cookies.clear()
    login(client, "dispatcher")
    assert f"<strong>{case_id}</strong>" not in client.get("/dispatcher").text


def test_agent_sees_the_callers_earlier_cases(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    earlier = register(db, clock)
    token = login(client, "agent")
    part = client.post(
        "/agent/triage",
        data={"text": "又来投诉", "phone": "13812345678"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert part.status_code == 200
    assert f"<strong>{earlier.id}</strong>" in part.text


def test_batch_dispatch_by_routing_rules(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    ids = [register(db, clock, category="050101").id for _ in range(3)]
    token = login(client, "dispatcher")
    resp = client.post(
        "/dispatcher/batch",
        data={"csrf_token": token, "case_id": [str(i) for i in ids[:2]]},
        follow_redirects=False,
    )
    assert shown(client, resp)["ok"].endswith(": 2")
    queue = client.get("/dispatcher").text
    assert f"<strong>{ids[2]}</strong>" in queue
    assert f"<strong>{ids[0]}</strong>" not in queue
    xlsx = client.get("/dispatcher/export?queue=dispatch")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ids[2]
    ]


def test_a_unit_cannot_open_another_units_case(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    to_replied(db, clock, case.id)
    login(client, "unit-110101002")
    assert client.get(f"/unit/case/{case.id}").status_code == 404
    assert f"/unit/case/{case.id}" not in client.get("/unit?box=done").text


def test_citizen_submits_with_photo_tracks_and_rates(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    client.app.state.web_settings.data_dir = tmp_path  # type: ignore[attr-defined]
    page = client.get("/citizen")
    token = form_token(page.text)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    resp = client.post(
        "/citizen/submit",
        data={
            "csrf_token": token,
            "text": "小区门口垃圾没人清运",
            "phone": "13900001234",
            "street": STREET,
        },
        files={"photo": ("x.png", png, "image/png")},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    m = CREATED.search(client.get(resp.headers["location"]).text)
    assert m, "the case number is shown once after the redirect"
    case_id = int(m.group(1))
    stored = list((tmp_path / "photos").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == png and "x.png" not in stored[0].name

    assert track(client, case_id, "0000").status_code == 404
    tracked = track(client, case_id, "1234")
    assert "诉求已受理" in tracked.text and "13900001234" not in tracked.text
    assert "评价办理结果" not in tracked.text  # not replied yet

    to_replied(db, clock, case_id)
    tracked = track(client, case_id, "1234")
    assert "评价办理结果" in tracked.text
    resp = client.post(
        "/citizen/rate",
        data={
            "csrf_token": token,
            "case": str(case_id),
            "phone4": "1234",
            "contacted": "yes",
            "resolved": "partly",
            "satisfaction": "basically",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303
    client.cookies.clear()
    login(client, "callback")
    assert "部分解决" in client.get(f"/callback/case/{case_id}").text


def test_citizen_photo_checked_by_its_bytes(client: TestClient, tmp_path: Path) -> None:
    client.app.state.web_settings.data_dir = tmp_path  # type: ignore[attr-defined]
    token = form_token(client.get("/citizen").text)
    resp = client.post(
        "/citizen/submit",
        data={"csrf_token": token, "text": "噪音扰民", "phone": "13900001234"},
        files={"photo": ("x.jpg", b"<?php echo 1; ?>", "image/jpeg")},
    )
    assert resp.status_code == 422
    assert "JPEG or PNG" in resp.text and "噪音扰民" in resp.text
    assert not (tmp_path / "photos").exists()


def test_admin_creates_and_deactivates_a_user(client: TestClient) -> None:
    token = login(client, "admin")
    resp = post(
        client, "/admin/users", token, username="web-agent-2", password="short", role="agent"
    )
    assert "密码" in shown(client, resp)["error"]  # the field, in Chinese
    resp = post(
        client,
        "/admin/users",
        token,
        username="web-agent-2",
        password="long-enough-1",
        role="agent",
    )
    assert "ok" in shown(client, resp)
    assert "web-agent-2" in client.get("/admin?list=users&q=web-agent").text
    post(client, "/admin/users/web-agent-2/active", token, active="0")
    client.cookies.clear()
    page = client.get("/login")
    bad = client.post(
        "/login",
        data={
            "username": "web-agent-2",
            "password": "long-enough-1",
            "csrf_token": form_token(page.text),
        },
    )
    assert bad.status_code == 401
