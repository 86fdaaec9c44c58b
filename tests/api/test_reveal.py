"""Unmasking a citizen's contact data: who may, that it is recorded with who/when/why, and that
phone numbers never reach the application's logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from jiesu.audit.models import AccessLog
from jiesu.audit.reveal import reveal_citizen
from jiesu.cases.models import CaseEvent
from jiesu.clock import FixedClock
from jiesu.errors import Forbidden, InvalidInput, NotFound
from jiesu.notify.scheduled import run_notify
from jiesu.settings import Settings
from tests.conftest import T0, Database
from tests.helpers import DISPATCHER, LEADER, OTHER_STREET, STREET, auth, do, handler, register

PHONE = "13812345678"


@pytest.fixture
def case_id(db: Database, clock: FixedClock) -> int:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    return case.id


def test_lead_unit_reveals_with_a_reason_and_it_is_logged(
    client: TestClient, db: Database, case_id: int
) -> None:
    h = auth(client, f"unit-{STREET}")
    masked = client.get(f"/api/v1/cases/{case_id}", headers=h).json()["citizen"]
    assert masked["phone"] != PHONE and masked["name"] != "王芳"
    resp = client.post(
        f"/api/v1/cases/{case_id}/reveal", json={"reason": "上门核实需要联系诉求人"}, headers=h
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["citizen"] == {"name": "王芳", "phone": PHONE}
    with db.factory() as s:
        [row] = s.query(AccessLog).all()
        assert (row.actor, row.role, row.unit_code, row.case_id) == (
            f"unit-{STREET}",
            "handler",
            STREET,
            case_id,
        )
        assert row.reason == "上门核实需要联系诉求人" and row.at is not None
        # Never in the case's lifecycle log.
        actions = [e.action for e in s.query(CaseEvent).filter_by(case_id=case_id)]
        assert "reveal" not in actions and len(actions) == 2
    log = client.get(
        "/api/v1/audit/access-log", params={"case_id": case_id}, headers=auth(client, "leader")
    )
    assert log.status_code == 200 and log.json()[0]["reason"] == "上门核实需要联系诉求人"
    assert client.get("/api/v1/audit/access-log", headers=h).status_code == 403


def test_other_unit_gets_not_found_and_nothing_logged(
    client: TestClient, db: Database, case_id: int
) -> None:
    h = auth(client, f"unit-{OTHER_STREET}")
    resp = client.post(f"/api/v1/cases/{case_id}/reveal", json={"reason": "想看看"}, headers=h)
    assert resp.status_code == 404 and PHONE not in resp.text
    with db.factory() as s:
        assert s.query(AccessLog).count() == 0


@pytest.mark.parametrize("username", ["agent", "analyst", "admin", "callback"])
def test_other_roles_are_refused(client: TestClient, case_id: int, username: str) -> None:
    resp = client.post(
        f"/api/v1/cases/{case_id}/reveal",
        json={"reason": "核实情况需要"},
        headers=auth(client, username),
    )
    # The refusal names the capability and who holds it (auth/permissions.py).
    error = resp.json()["error"]
    assert resp.status_code == 403 and error["details"] == {"capability": "reveal_citizen"}
    assert "handler, leader" in error["message"] and PHONE not in resp.text


def test_reason_is_required(client: TestClient, db: Database, case_id: int) -> None:
    h = auth(client, "leader")
    for body in ({}, {"reason": "   "}, {"reason": "ok"}):
        resp = client.post(f"/api/v1/cases/{case_id}/reveal", json=body, headers=h)
        assert resp.status_code == 422 and "reason" in resp.json()["error"]["message"]
    with db.factory() as s:
        assert s.query(AccessLog).count() == 0


def test_service_function_for_the_console(db: Database, case_id: int) -> None:
    with db.uow() as uow:
        shown = reveal_citizen(uow.session, LEADER, case_id, "领导督办需要回电", T0)
        uow.commit()
    assert shown.phone == PHONE and shown.logged_at == T0
    with db.uow() as uow:
        with pytest.raises(NotFound):
            reveal_citizen(uow.session, handler(OTHER_STREET), case_id, "查看一下情况", T0)
        with pytest.raises(Forbidden):
            reveal_citizen(uow.session, DISPATCHER, case_id, "查看一下情况", T0)
        with pytest.raises(InvalidInput):
            reveal_citizen(uow.session, LEADER, case_id, " ", T0)
    with db.factory() as s:
        assert s.query(AccessLog).count() == 1


def test_phone_never_reaches_the_application_logs(
    client: TestClient, db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything jiesu, uvicorn and the HTTP stack log, at the most verbose level, during a
    # registration, a reveal and a rejected registration (whose error echoes the input).
    caplog.set_level(logging.DEBUG)
    h = auth(client, "agent")
    body = {
        "text": "楼道堆物堵塞消防通道",
        "request_type": "complaint",
        "street": STREET,
        "citizen": {"name": "王芳", "phone": PHONE},
    }
    created = client.post("/api/v1/cases", json=body, headers=h)
    assert created.status_code == 201
    bad = client.post("/api/v1/cases", json={**body, "street": "nope"}, headers=h)
    assert bad.status_code == 422
    client.post(
        f"/api/v1/cases/{created.json()['id']}/reveal",
        json={"reason": "领导督办需要回电"},
        headers=auth(client, "leader"),
    )
    # The SMS to the citizen cannot go out (no gateway configured): the outbox logs that.
    with db.uow() as uow:
        run_notify(uow, clock, Settings(database_url=db.url))
    assert any(r.name.startswith("jiesu") for r in caplog.records), "the test would prove nothing"
    assert PHONE not in caplog.text and "王芳" not in caplog.text
