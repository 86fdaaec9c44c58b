"""The admin console's policy tables: each change a new version or a logged edit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from jiesu.assessment.models import AssessmentPolicy
from jiesu.clock import FixedClock
from jiesu.open311.keys import client_for_key
from jiesu.routing.models import RoutingRule
from jiesu.routing.service import propose_unit
from jiesu.sla.models import CalendarDay, SlaPolicy
from jiesu.sla.service import policy_for
from jiesu.units.models import Category
from jiesu.web.models import AdminChange
from tests.api.pages_helpers import login, post, shown
from tests.conftest import Database
from tests.helpers import DISTRICT, STREET


@pytest.fixture(autouse=True)
def _restore_reference_tables(db: Database) -> Iterator[None]:
    """On PostgreSQL the seeded reference tables outlive a test: take back what it added."""
    with db.uow() as uow:
        s = uow.session
        sla = s.scalar(select(func.max(SlaPolicy.id))) or 0
        rule = s.scalar(select(func.max(RoutingRule.id))) or 0
        weights = s.scalar(select(func.max(AssessmentPolicy.id))) or 0
        codes = set(s.scalars(select(Category.code)))
    yield
    with db.uow() as uow:
        s = uow.session
        s.execute(delete(SlaPolicy).where(SlaPolicy.id > sla))
        s.execute(delete(RoutingRule).where(RoutingRule.id > rule))
        s.execute(delete(AssessmentPolicy).where(AssessmentPolicy.id > weights))
        added = [c for c in s.scalars(select(Category.code)) if c not in codes]
        for code in sorted(added, key=len, reverse=True):  # children before parents
            s.execute(delete(Category).where(Category.code == code))
        uow.commit()


LIMITS = {
    "contact_value": "12",
    "contact_unit": "hours",
    "reply_value": "3",
    "reply_unit": "workdays",
    "callback_value": "2",
    "callback_unit": "workdays",
}


def test_a_time_limit_change_is_a_new_version_with_history(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    token = login(client, "admin")
    with db.uow() as uow:
        s = uow.session
        before = len(s.scalars(select(SlaPolicy)).all())
        old = policy_for(s, "complaint", "050101", "normal", clock.now())
    start = (clock.now() + timedelta(days=1)).astimezone(client.app.state.settings.tz)  # type: ignore[attr-defined]
    resp = post(
        client,
        "/admin/time-limits",
        token,
        request_type="complaint",
        category_prefix="05",
        urgency="normal",
        effective_from=start.strftime("%Y-%m-%dT%H:%M"),
        **LIMITS,
    )
    assert "ok" in shown(client, resp)
    with db.uow() as uow:
        s = uow.session
        rows = s.scalars(select(SlaPolicy)).all()
        assert len(rows) == before + 1  # added, nothing rewritten
        # Today's cases keep the old limit; from tomorrow the new row governs.
        assert policy_for(s, "complaint", "050101", "normal", clock.now()) == old
        new = policy_for(s, "complaint", "050101", "normal", clock.now() + timedelta(days=2))
        assert (new.reply.value, new.reply.unit) == (3, "workdays")
        change = s.scalars(select(AdminChange).where(AdminChange.kind == "time_limits")).one()
        assert change.actor == "admin" and change.at == clock.now()
    page = client.get("/admin?list=time_limits").text
    assert "工作日" in page or "workdays" in page
    # A version may not start in the past: history is never rewritten.
    resp = post(
        client,
        "/admin/time-limits",
        token,
        effective_from="2020-01-01T00:00",
        category_prefix="",
        request_type="",
        urgency="",
        **LIMITS,
    )
    assert "生效时间" in shown(client, resp)["error"]
    with db.uow() as uow:
        s = uow.session
        assert len(s.scalars(select(SlaPolicy)).all()) == before + 1


def test_routing_rule_added_with_history(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    token = login(client, "admin")
    resp = post(
        client, "/admin/routing", token, category_prefix="0501", target=DISTRICT, note="区管路灯"
    )
    assert "ok" in shown(client, resp)
    with db.uow() as uow:
        s = uow.session
        decision = propose_unit(s, "050101", DISTRICT, STREET, clock.now())
        assert decision is not None and decision.lead_unit == DISTRICT
    page = client.get("/admin?list=routing&q=区管路灯").text
    assert "区管路灯" in page
    changes = client.get("/admin?list=changes").text
    assert "0501" in changes and "admin" in changes
    resp = post(client, "/admin/routing", token, category_prefix="0501", target="nowhere")
    assert "未知的单位代码" in shown(client, resp)["error"]


def test_assessment_weights_validated_and_never_overwritten(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    token = login(client, "admin")
    month = clock.now().astimezone(client.app.state.settings.tz).strftime("%Y-%m")  # type: ignore[attr-defined]
    fields = {
        "unit_kind": "street",
        "effective_from": month,
        "response_weight": "0.2",
        "resolution_weight": "0.4",
        "satisfaction_weight": "0.4",
        "basically_factor": "0.5",
        "partly_factor": "0",
        "min_cases": "20",
    }
    bad = post(client, "/admin/weights", token, **{**fields, "response_weight": "0.3"})
    assert "1" in shown(client, bad)["error"]  # weights must sum to 1
    assert "ok" in shown(client, post(client, "/admin/weights", token, **fields))
    again = post(client, "/admin/weights", token, **fields)
    assert shown(client, again)["error"]
    with db.uow() as uow:
        s = uow.session
        rows = s.scalars(select(AssessmentPolicy).where(AssessmentPolicy.unit_kind == "street"))
        assert [(r.min_cases, float(r.response_weight)) for r in rows] == [(20, 0.2)]


def test_taxonomy_add_rename_deactivate_and_import(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    token = login(client, "admin")
    resp = post(
        client, "/admin/categories", token, parent_code="0501", code="050199", name="灯杆倾斜"
    )
    assert "ok" in shown(client, resp)
    resp = post(client, "/admin/categories/050199", token, name="路灯杆倾斜")
    assert "ok" in shown(client, resp)
    post(client, "/admin/categories/050199", token, active="0")
    with db.uow() as uow:
        s = uow.session
        cat = s.get(Category, "050199")
        assert cat is not None and cat.name == "路灯杆倾斜" and cat.level == 3 and not cat.active
        log = [c.subject for c in s.scalars(select(AdminChange).order_by(AdminChange.id))]
        assert log == ["add 050199", "rename 050199", "deactivate 050199"]
    head = "code,name,level,parent_code,livelihood_dimension,urgency\n"
    csv = head + "90,试点,1,,安全性,\n9001,子类,2,90,,\n"
    resp = client.post(
        "/admin/categories-import",
        data={"csrf_token": token},
        files={"csv": ("t.csv", csv.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert "2" in shown(client, resp)["ok"]
    broken = "code,name,level,parent_code,livelihood_dimension,urgency\n91,坏,2,,,\n"
    resp = client.post(
        "/admin/categories-import",
        data={"csrf_token": token},
        files={"csv": ("t.csv", broken.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert "91" in shown(client, resp)["error"]
    with db.uow() as uow:
        s = uow.session
        assert s.get(Category, "9001") is not None and s.get(Category, "91") is None


def test_open311_key_shown_once_and_revoked(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    token = login(client, "admin")
    resp = client.post("/admin/open311", data={"csrf_token": token, "client": "city-app"})
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"
    key = resp.text.split('id="new-key">')[1].split("<")[0]
    with db.uow() as uow:
        s = uow.session
        assert client_for_key(s, key) == "city-app"
    assert key not in client.get("/admin?list=open311").text  # never shown again
    assert "ok" in shown(client, post(client, "/admin/open311/city-app/revoke", token))
    with db.uow() as uow:
        s = uow.session
        try:
            client_for_key(s, key)
            raise AssertionError("a revoked key still works")
        except Exception as exc:
            assert "not valid" in str(exc)


def test_policy_pages_are_admin_only_and_need_csrf(client: TestClient, db: Database) -> None:
    token = login(client, "leader")
    assert post(client, "/admin/routing", token, target=DISTRICT).status_code == 403  # type: ignore[attr-defined]
    client.cookies.clear()
    login(client, "admin")
    assert post(client, "/admin/routing", "forged", target=DISTRICT).status_code == 403  # type: ignore[attr-defined]
    with db.uow() as uow:
        s = uow.session
        assert s.scalars(select(AdminChange)).all() == []


def test_routing_rule_retired_keeps_its_history(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    token = login(client, "admin")
    post(client, "/admin/routing", token, category_prefix="0501", target=DISTRICT, note="区管路灯")
    with db.uow() as uow:
        rule_id = uow.session.scalars(
            select(RoutingRule.id).where(RoutingRule.note == "区管路灯")
        ).one()
    resp = post(client, "/admin/routing/retire", token, rule_id=str(rule_id))
    assert "ok" in shown(client, resp)
    with db.uow() as uow:
        s = uow.session
        # Retired now: the street (属地) rule applies again; before, the district's did.
        decision = propose_unit(s, "050101", DISTRICT, STREET, clock.now())
        assert decision is not None and decision.lead_unit == STREET
        rule = s.get(RoutingRule, rule_id)
        assert rule is not None and rule.retired_from == clock.now()
    again = post(client, "/admin/routing/retire", token, rule_id=str(rule_id))
    assert "error" in shown(client, again)
    assert "retired" in client.get("/admin?list=changes").text


@pytest.mark.usefixtures("restores_reference_data")
def test_holiday_page_sets_and_removes_a_day_through_the_calendar_service(
    client: TestClient, db: Database
) -> None:
    token = login(client, "admin")
    # A kind that is neither holiday nor make-up workday is refused, and nothing is kept.
    resp = post(client, "/admin/holidays", token, day="2026-10-14", kind="rest", name="x")
    assert "请从给定选项中选择" in shown(client, resp)["error"]
    resp = post(client, "/admin/holidays", token, day="2026-10-14", kind="holiday", name="假" * 51)
    assert "最多 50 个字符" in shown(client, resp)["error"]
    resp = post(client, "/admin/holidays", token, day="2026-10-14", kind="workday", name="x")
    assert "2026-10-14 是周一至周五，本来就是工作日" in shown(client, resp)["error"]
    with db.uow() as uow:
        assert uow.session.get(CalendarDay, date(2026, 10, 14)) is None
        assert uow.session.scalars(select(AdminChange)).all() == []
    resp = post(client, "/admin/holidays", token, day="2026-10-14", kind="holiday", name="临时")
    assert "ok" in shown(client, resp)
    assert "临时" in client.get("/admin?list=holidays&q=临时").text
    assert "ok" in shown(client, post(client, "/admin/holidays/2026-10-14/delete", token))
    with db.uow() as uow:
        s = uow.session
        assert s.get(CalendarDay, date(2026, 10, 14)) is None
        log = s.scalars(select(AdminChange.subject).order_by(AdminChange.id)).all()
        assert log == ["holiday 2026-10-14", "remove 2026-10-14"]
