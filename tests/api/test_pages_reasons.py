"""Refusals with a value in them read in the reader's language, the value kept (jiesu/reasons.py):
the page translates the reason from its id and parameters, the API keeps its English sentence."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from tests.api.pages_helpers import login, post, shown
from tests.conftest import Database
from tests.helpers import auth, register

WEIGHTS = {
    "unit_kind": "street",
    "response_weight": "0.3",  # with 0.4 and 0.4: 1.1
    "resolution_weight": "0.4",
    "satisfaction_weight": "0.4",
    "basically_factor": "0.5",
    "partly_factor": "0",
    "min_cases": "20",
}


def test_too_long_text_names_the_field_and_its_limit(client: TestClient) -> None:
    token = login(client, "agent")
    resp = post(client, "/agent/register", token, text="长" * 10001, request_type="complaint")
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert "诉求内容: 最多 10000 个字符" in resp.text  # type: ignore[attr-defined]


def test_unknown_unit_is_named_in_chinese_and_in_english(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    token = login(client, "dispatcher")
    resp = post(client, f"/case/{case.id}/dispatch", token, lead_unit="999", next="/dispatcher")
    assert "主办单位: 未知的单位代码“999”" in shown(client, resp)["error"]
    client.cookies.set("jiesu_lang", "en")
    resp = post(client, f"/case/{case.id}/dispatch", token, lead_unit="999", next="/dispatcher")
    assert "Lead unit: unknown unit code '999'" in html.unescape(shown(client, resp)["error"])


def test_the_api_keeps_code_english_message_and_parameters(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    resp = client.post(
        f"/api/v1/cases/{case.id}/dispatch",
        json={"lead_unit": "999"},
        headers=auth(client, "dispatcher"),
    )
    assert resp.status_code == 422
    assert resp.json() == {
        "error": {
            "code": "invalid_input",
            "message": "lead_unit: unknown unit code '999'",
            "details": {"field": "lead_unit", "unit": "999"},
        }
    }


def test_a_merge_into_a_closed_case_names_the_case(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    master, dup = register(db, clock), register(db, clock)
    token = login(client, "dispatcher")
    post(client, f"/case/{master.id}/terminate", token, reason="重复", next="/dispatcher")
    resp = post(client, f"/case/{dup.id}/merge", token, into=str(master.id), next="/dispatcher")
    error = shown(client, resp)["error"]
    assert f"工单 {master.id} 当前状态下不能并入其他工单" in error and "cannot" not in error
    resp = post(client, f"/case/{dup.id}/merge", token, into="99999999", next="/dispatcher")
    assert "工单 99999999 不存在" in shown(client, resp)["error"]


def test_admin_form_refusals_keep_their_values(client: TestClient, clock: FixedClock) -> None:
    token = login(client, "admin")
    month = clock.now().astimezone(client.app.state.settings.tz).strftime("%Y-%m")  # type: ignore[attr-defined]
    resp = post(client, "/admin/weights", token, effective_from=month, **WEIGHTS)
    assert "三项权重之和须为 1，当前为 1.1" in shown(client, resp)["error"]
    resp = post(
        client, "/admin/weights", token, effective_from=month, **{**WEIGHTS, "min_cases": "x"}
    )
    assert "最少件数: 请填写 0 到 100000 之间的整数" in shown(client, resp)["error"]
    resp = post(client, "/admin/holidays", token, day="2026-13-45", kind="holiday", name="x")
    assert "“2026-13-45”不是日期" in shown(client, resp)["error"]
    resp = post(client, "/admin/categories", token, code="0501", name="x")
    assert "代码: “0501”已被占用" in shown(client, resp)["error"]
    resp = post(client, "/admin/categories", token, parent_code="0501", code="999901", name="x")
    assert "须以上级代码 0501 开头" in shown(client, resp)["error"]
    resp = post(client, "/admin/categories", token, parent_code="7777", code="777701", name="x")
    assert "上级代码: 未知的分类代码“7777”" in shown(client, resp)["error"]
