"""A rule of the case refusing an action answers 409 `guard_failed`, as docs/api.md promises,
and writes nothing: the escalation cap, a reopen without a lead unit, a merge into an invalid
master. An action that does not exist for the status stays `illegal_action`."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from jiesu.cases.models import Case
from jiesu.clock import FixedClock
from tests.api.test_cases_api import new_case, post
from tests.conftest import Database
from tests.helpers import AGENT, STREET, auth, called_back, do, register, to_replied


def _refused(resp: Any, message: str) -> dict[str, Any]:
    assert resp.status_code == 409, resp.text
    err: dict[str, Any] = resp.json()["error"]
    assert err["code"] == "guard_failed"
    assert message in err["message"]
    return err


def _version(client: TestClient, who: dict[str, str], cid: int) -> int:
    return int(client.get(f"/api/v1/cases/{cid}", headers=who).json()["version"])


def test_escalation_past_city_level_is_guard_failed(client: TestClient) -> None:
    disp, leader = auth(client, "dispatcher"), auth(client, "leader")
    cid = new_case(client, auth(client, "agent"))["id"]
    assert post(client, disp, f"/cases/{cid}/dispatch", {"lead_unit": STREET}).status_code == 200
    for reason in ("跨区问题", "提级到市级"):
        assert post(client, leader, f"/cases/{cid}/escalate", {"reason": reason}).status_code == 200
    version = _version(client, disp, cid)
    resp = post(client, leader, f"/cases/{cid}/escalate", {"reason": "再提级"})
    err = _refused(resp, "city coordination level")
    assert err["details"]["status"] == "dispatched"
    case = client.get(f"/api/v1/cases/{cid}", headers=disp).json()
    assert case["escalation_level"] == 2 and case["version"] == version


def test_reopen_without_a_lead_unit_is_guard_failed(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    to_replied(db, clock, case.id)
    called_back(db, clock, case.id, "dissatisfied")
    with db.uow() as uow:  # as an imported case can be: closed, its lead unit unknown
        uow.session.execute(update(Case).where(Case.id == case.id).values(lead_unit=None))
        uow.commit()
    cb = auth(client, "callback")
    resp = post(client, cb, f"/cases/{case.id}/reopen", {"reason": "市民称未解决"})
    _refused(resp, "no lead unit to reopen")
    assert client.get(f"/api/v1/cases/{case.id}", headers=cb).json()["status"] == "closed"


def test_merge_into_an_invalid_master_is_guard_failed(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    agent = auth(client, "agent")
    master = register(db, clock)
    dup = register(db, clock)
    do(db, clock, AGENT, dup.id, "merge", into=master.id)
    other = new_case(client, agent)["id"]
    # Into a case that is itself merged: it cannot take merges.
    _refused(post(client, agent, f"/cases/{other}/merge", {"into": dup.id}), "cannot take merges")
    # Into itself.
    _refused(post(client, agent, f"/cases/{other}/merge", {"into": other}), "into itself")
    # A master that does not exist is a bad reference in the body, not a rule of the case.
    missing = post(client, agent, f"/cases/{other}/merge", {"into": 10**9})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "invalid_input"
    assert client.get(f"/api/v1/cases/{other}", headers=agent).json()["status"] == "registered"


def test_reply_before_contact_is_guard_failed_with_the_allowed_actions(client: TestClient) -> None:
    disp, unit = auth(client, "dispatcher"), auth(client, f"unit-{STREET}")
    cid = new_case(client, auth(client, "agent"))["id"]
    post(client, disp, f"/cases/{cid}/dispatch", {"lead_unit": STREET})
    post(client, unit, f"/cases/{cid}/acknowledge", {})
    err = _refused(post(client, unit, f"/cases/{cid}/reply", {"text": "已处理"}), "contact")
    # The action exists here; the rule says what to do first, and the details still list it.
    assert err["details"]["status"] == "acknowledged"
    assert {"contact", "reply"} <= set(err["details"]["allowed_actions"])
