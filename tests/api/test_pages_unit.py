"""The unit's case page: audited reveal of the phone, the reply-quality hint; the agent's
three cascading category selects."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from jiesu.audit.models import AccessLog
from jiesu.clock import FixedClock
from tests.api.pages_helpers import login, post
from tests.conftest import Database
from tests.helpers import DISPATCHER, OTHER_STREET, STREET, auth, do, handler, register


def _dispatched(db: Database, clock: FixedClock) -> int:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    return case.id


def test_reveal_needs_a_reason_and_is_logged(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case_id = _dispatched(db, clock)
    token = login(client, f"unit-{STREET}")
    page = client.get(f"/unit/case/{case_id}").text
    assert "138****5678" in page and "显示完整号码" in page
    short = post(client, f"/unit/case/{case_id}/reveal", token, reason="看")
    assert short.status_code == 422 and "原因" in short.text  # type: ignore[attr-defined]
    assert "13812345678" not in short.text  # type: ignore[attr-defined]
    shown = post(client, f"/unit/case/{case_id}/reveal", token, reason="需要电话上门核实")
    assert shown.status_code == 200  # type: ignore[attr-defined]
    assert shown.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    assert re.search(r'id="citizen-phone">13812345678<', shown.text)  # type: ignore[attr-defined]
    with db.uow() as uow:
        log = uow.session.scalars(select(AccessLog)).all()
        assert [(r.actor, r.case_id, r.reason) for r in log] == [
            (f"unit-{STREET}", case_id, "需要电话上门核实")
        ]
    # The next plain view is masked again.
    assert "13812345678" not in client.get(f"/unit/case/{case_id}").text


def test_another_unit_cannot_reveal(client: TestClient, db: Database, clock: FixedClock) -> None:
    case_id = _dispatched(db, clock)
    token = login(client, "unit-110101002")
    resp = post(client, f"/unit/case/{case_id}/reveal", token, reason="需要电话上门核实")
    assert resp.status_code == 404  # type: ignore[attr-defined]
    assert "13812345678" not in resp.text  # type: ignore[attr-defined]


def test_reply_quality_hint_grades_the_draft(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case_id = _dispatched(db, clock)
    do(db, clock, handler(), case_id, "acknowledge")
    token = login(client, f"unit-{STREET}")
    assert 'hx-post="/unit/case/' in client.get(f"/unit/case/{case_id}").text
    thin = post(client, f"/unit/case/{case_id}/reply-hint", token, text="已处理")
    assert "答复质量" in thin.text and "答复过短" in thin.text  # type: ignore[attr-defined]
    good = post(
        client,
        f"/unit/case/{case_id}/reply-hint",
        token,
        text="东华门街道城管科于10月12日到幸福里小区现场核实，路灯因线路老化不亮，"
        "已依据《北京市城市照明管理办法》更换线路，路灯恢复照明。后续如有问题请联系65120000。",
    )
    grade = re.search(r"答复质量: ([ABCD])", good.text)  # type: ignore[attr-defined]
    assert grade and grade.group(1) in "AB"


def test_agent_category_is_three_cascading_selects(client: TestClient) -> None:
    token = login(client, "agent")
    page = client.get("/agent").text
    for level in ("cat1", "cat2", "category"):
        assert f'<label for="{level}">' in page  # each level has its label
    # After a refused form the three levels come back on the chosen leaf.
    resp = post(client, "/agent/register", token, text="", category="050101")
    html = resp.text  # type: ignore[attr-defined]
    assert re.search(r'<option value="05" selected>', html)
    assert re.search(r'<option value="0501" data-parent="05" selected>', html)
    assert re.search(r'<option value="050101" data-parent="0501" selected>', html)


LEAD_ONLY_BUTTONS = {"contact", "reply", "return", "whistle", "request_extension"}


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', html))


def test_a_co_handler_sees_no_lead_only_action(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    # 首接负责: the lead unit acts for the case; a unit whistled in works through its task.
    # The page must not offer the co-handler buttons that the server then refuses.
    case_id = _dispatched(db, clock)
    do(db, clock, handler(), case_id, "acknowledge")
    do(db, clock, handler(), case_id, "whistle", units=[OTHER_STREET], reason="需要协同")
    login(client, f"unit-{STREET}")
    lead = _buttons(client.get(f"/unit/case/{case_id}").text)
    assert lead >= LEAD_ONLY_BUTTONS
    assert "accept_task" not in lead  # the lead has no task of its own
    login(client, f"unit-{OTHER_STREET}")
    co_page = client.get(f"/unit/case/{case_id}")
    assert co_page.status_code == 200
    co = _buttons(co_page.text)
    assert not co & LEAD_ONLY_BUTTONS and "escalate" not in co
    assert co == {"accept_task"}
    # Once accepted, the co-handler is offered the task reply, still no lead action.
    do(db, clock, handler(OTHER_STREET), case_id, "accept_task")
    assert _buttons(client.get(f"/unit/case/{case_id}").text) == {"reply_task"}


def test_the_api_offers_a_co_handler_only_its_task(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    # CaseOut.allowed_actions is what every client builds its buttons from.
    case_id = _dispatched(db, clock)
    do(db, clock, handler(), case_id, "acknowledge")
    do(db, clock, handler(), case_id, "whistle", units=[OTHER_STREET], reason="需要协同")
    co = client.get(f"/api/v1/cases/{case_id}", headers=auth(client, f"unit-{OTHER_STREET}"))
    assert co.json()["allowed_actions"] == ["accept_task"]
    lead = client.get(f"/api/v1/cases/{case_id}", headers=auth(client, f"unit-{STREET}"))
    assert set(lead.json()["allowed_actions"]) >= LEAD_ONLY_BUTTONS
