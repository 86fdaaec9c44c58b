"""Building test data through the real service functions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from jiesu.auth.actor import Actor
from jiesu.cases import schemas as s
from jiesu.cases.models import Case
from jiesu.cases.registration import register_case
from jiesu.cases.service import act
from jiesu.cases.workflow import Action, Role
from jiesu.clock import FixedClock
from tests.conftest import Database

TZ = ZoneInfo("Asia/Shanghai")
AGENT = Actor("agent", Role.AGENT)
DISPATCHER = Actor("dispatcher", Role.DISPATCHER)
CALLBACK = Actor("callback", Role.CALLBACK)
LEADER = Actor("leader", Role.LEADER)
STREET = "110101001"  # 东华门街道, 东城区
OTHER_STREET = "110101002"  # 景山街道
DISTRICT = "110101"


def handler(code: str = STREET) -> Actor:
    return Actor(f"unit-{code}", Role.HANDLER, code)


def register(db: Database, clock: FixedClock, **fields: Any) -> Case:
    body: dict[str, Any] = {
        "text": "东华门街道某小区楼道堆物堵塞消防通道，希望尽快清理。",
        "request_type": "complaint",
        "street": STREET,
        "address": "东华门街道幸福里3号楼",
        "citizen": {"name": "王芳", "phone": "13812345678"},
    }
    body.update(fields)
    with db.uow() as uow:
        return register_case(uow, clock, AGENT, s.RegisterIn.model_validate(body))


def do(
    db: Database,
    clock: FixedClock,
    actor: Actor,
    case_id: int,
    action: str,
    after: timedelta = timedelta(minutes=10),
    **body: Any,
) -> Case:
    clock.advance(after)
    schema = s.ACTION_SCHEMAS[action]
    with db.uow() as uow:
        return act(uow, clock, actor, case_id, Action(action), schema.model_validate(body), TZ)


def to_replied(db: Database, clock: FixedClock, case_id: int, unit: str = STREET) -> Case:
    do(db, clock, DISPATCHER, case_id, "dispatch", lead_unit=unit)
    do(db, clock, handler(unit), case_id, "acknowledge")
    do(db, clock, handler(unit), case_id, "contact", note="电话联系")
    return do(db, clock, handler(unit), case_id, "reply", after=timedelta(hours=5), text="已处理")


def called_back(db: Database, clock: FixedClock, case_id: int, satisfaction: str) -> None:
    """A callback: the citizen was contacted and the problem solved, with this satisfaction."""
    do(
        db,
        clock,
        CALLBACK,
        case_id,
        "callback",
        contacted=True,
        resolved="yes",
        satisfaction=satisfaction,
    )


def auth(client: TestClient, username: str, password: str = "jiesu-demo") -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
