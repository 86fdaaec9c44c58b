"""One-time messages, translated error details and the tracker's guess limit."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from jiesu.web import flash
from tests.api.pages_helpers import MSG, form_token, login, post, shown, track
from tests.conftest import Database
from tests.helpers import register


def test_a_crafted_link_shows_no_message(client: TestClient) -> None:
    login(client, "agent")
    page = client.get("/agent?ok=您的账户已冻结，请拨打13800000000&error=x").text
    assert "账户已冻结" not in page and not MSG.search(page)


def test_the_message_is_shown_once_and_only_to_its_session(client: TestClient) -> None:
    token = login(client, "admin")
    resp = post(client, "/admin/holidays", token, day="2026-12-31", kind="holiday", name="x")
    cookie = resp.cookies.get(flash.COOKIE)  # type: ignore[attr-defined]
    assert cookie
    assert "已保存" in shown(client, resp)["ok"]
    assert not MSG.search(client.get("/admin?list=holidays").text)  # gone after one view
    # The same cookie replayed into another session's page is not shown.
    client.cookies.clear()
    login(client, "admin")
    client.cookies.set(flash.COOKIE, cookie)
    assert not MSG.search(client.get("/admin?list=holidays").text)


def test_refusal_details_are_translated(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    token = login(client, "dispatcher")
    resp = post(client, f"/case/{case.id}/reply", token, text="x", next="/dispatcher")
    error = shown(client, resp)["error"]
    # The rule's kind, the case's status and what is possible now, all in Chinese.
    assert "不能执行此操作" in error and "已受理" in error and "派至" in error
    assert "is not allowed" not in error and "registered" not in error
    resp = post(client, f"/case/{case.id}/dispatch", token, lead_unit="999", next="/dispatcher")
    error = shown(client, resp)["error"]
    assert "未知的单位代码" in error and "999" in error and "unknown" not in error


def test_validation_errors_name_the_field_in_chinese(client: TestClient) -> None:
    token = login(client, "agent")
    resp = post(client, "/agent/register", token, text="", request_type="complaint")
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert "诉求内容" in resp.text  # type: ignore[attr-defined]


def test_tracking_guesses_are_limited_per_case(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)  # the helper's citizen phone ends in 5678
    limit = client.app.state.web_settings.track_limit_per_case  # type: ignore[attr-defined]
    for guess in range(limit):
        wrong = track(client, case.id, f"{guess:04d}")
        assert wrong.status_code == 404
    # Now even the right digits are refused until the window has passed.
    refused = track(client, case.id, "5678")
    assert refused.status_code == 429 and "尝试次数过多" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    clock.advance(timedelta(minutes=11))
    assert track(client, case.id, "5678").status_code == 200


def test_tracking_guesses_are_limited_per_address(client: TestClient) -> None:
    limit = client.app.state.web_settings.track_limit_per_ip  # type: ignore[attr-defined]
    for n in range(limit):
        assert track(client, 900 + n, "0000").status_code == 404
    assert track(client, 1, "0000").status_code == 429
    # Rating through the tracker is the same guess and is refused too.
    token = form_token(client.get("/citizen").text)
    resp = client.post("/citizen/rate", data={"csrf_token": token, "case": "1", "phone4": "1"})
    assert resp.status_code == 429
