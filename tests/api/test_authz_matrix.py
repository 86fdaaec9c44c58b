"""The authorization matrix, generated from the running app: every API route × every role ×
own/other unit, against one case held by unit A.

The route list is the app's own OpenAPI document (built by FastAPI from app.routes; the
consoles' pages are not in it and are tested in tests/api/test_pages_*). A route added later
without an entry in KIND fails `test_every_route_has_an_expectation`, so nothing escapes.

Who may call a route is not written here: a route guarded by a capability names it in KIND,
and the expected refusal (403 or not) comes from `permissions.can(role, capability)`; the
lifecycle actions' roles come from the workflow's table (`permissions.lifecycle_roles`).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.auth.permissions import Capability, can, lifecycle_roles
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.workflow import REGISTER_ROLES, Action, Role
from jiesu.clock import FixedClock
from tests.conftest import Database
from tests.helpers import DISPATCHER, OTHER_STREET, STREET, auth, do, register

MARKER = "矩阵测试专用文本"
PHONE = "13912340000"
NAME = "赵矩阵"
THIRD_UNIT = "110101003"

CASE_READ = "case_read"
CASE_ACTION = "case_action"
PUBLIC = "open311_public"
SELF = "auth_self"  # acts on the caller's own tokens: called anonymously only
OTHER = "other"  # open to every login, or refused by the workflow (register)
Cap = Capability
# A route guarded by a capability has it as its kind (Capability is a str enum).
REVEAL = Cap.REVEAL_CITIZEN

KIND: dict[str, str] = {
    "GET /api/v1/health": OTHER,
    "POST /api/v1/auth/token": OTHER,
    "POST /api/v1/auth/revoke": SELF,
    "GET /api/v1/auth/me": OTHER,
    "POST /api/v1/cases": OTHER,
    "GET /api/v1/cases": OTHER,
    "GET /api/v1/cases/{case_id}": CASE_READ,
    "GET /api/v1/cases/{case_id}/events": Cap.READ_CASE_EVENTS,
    **{
        f"POST /api/v1/cases/{{case_id}}/{a.value}": CASE_ACTION
        for a in Action
        if a.value != "register"
    },
    "POST /api/v1/cases/{case_id}/reveal": REVEAL,
    "GET /api/v1/audit/access-log": Cap.READ_ACCESS_LOG,
    "GET /api/v1/assessment/{month}": Cap.READ_ASSESSMENT,
    "GET /api/v1/assessment/{month}/versions": Cap.READ_ASSESSMENT,
    "GET /api/v1/assessment/{month}/{unit}/cases": Cap.READ_ASSESSMENT,
    "GET /api/v1/units": OTHER,
    "GET /api/v1/categories": OTHER,
    "GET /api/v1/knowledge": Cap.READ_ARTICLES,
    "POST /api/v1/knowledge": Cap.MANAGE_ARTICLES,
    "GET /api/v1/knowledge/{article_id}": Cap.READ_ARTICLES,
    "PUT /api/v1/knowledge/{article_id}": Cap.MANAGE_ARTICLES,
    "DELETE /api/v1/knowledge/{article_id}": Cap.MANAGE_ARTICLES,
    "POST /api/v1/triage": Cap.TRIAGE,
    "GET /open311/v2/discovery.{fmt}": PUBLIC,
    "GET /open311/v2/services.{fmt}": PUBLIC,
    "GET /open311/v2/services/{code}.{fmt}": PUBLIC,
    "POST /open311/v2/requests.{fmt}": OTHER,
    "GET /open311/v2/requests.{fmt}": PUBLIC,
    "GET /open311/v2/requests/{request_id}.{fmt}": PUBLIC,
    "GET /open311/v2/tokens/{token}.{fmt}": PUBLIC,
    "GET /api/v1/governance/topics/{month}": Cap.READ_GOVERNANCE,
    "GET /api/v1/governance/livelihood/{month}": Cap.READ_GOVERNANCE,
    "POST /api/v1/governance/reply-quality": Cap.ASSESS_REPLY_QUALITY,
    "GET /api/v1/governance/spatial/{month}": Cap.READ_GOVERNANCE,
    "GET /api/v1/governance/surges": Cap.READ_GOVERNANCE,
    "GET /api/v1/governance/forecast": Cap.READ_GOVERNANCE,
    "GET /api/v1/governance/candidates/{month}": Cap.READ_GOVERNANCE,
    "GET /api/v1/admin/open311/keys": Cap.ADMINISTER,
    "POST /api/v1/admin/open311/keys": Cap.ADMINISTER,
    "DELETE /api/v1/admin/open311/keys/{client}": Cap.ADMINISTER,
}

# A valid body for each action, so a refusal is about the role, not about the input.
BODIES: dict[str, dict[str, Any]] = {
    "answer": {"text": "已答复"},
    "dispatch": {"lead_unit": STREET},
    "return": {"reason": "不属于本单位", "evidence": "职责清单"},
    "reassign": {"lead_unit": STREET, "reason": "改派"},
    "whistle": {"units": [THIRD_UNIT], "reason": "需要协办"},
    "reply_task": {"text": "已协办"},
    "escalate": {"reason": "需要提级"},
    "request_extension": {"days": 3, "reason": "需要更多时间"},
    "reply": {"text": "已处理"},
    "callback": {"contacted": True, "resolved": "yes", "satisfaction": "satisfied"},
    "reopen": {"reason": "未解决"},
    "terminate": {"reason": "恶意诉求"},
    "request_exclusion": {"reason": "不合理诉求"},
    "reject_return": {"reason": "职责明确"},
    "reject_extension": {"reason": "时间足够"},
    "reject_exclusion": {"reason": "诉求合理"},
    "merge": {"into": 1},
    "reveal": {"reason": "上门核实需要联系"},
    "knowledge": {"title": "t", "body": "b"},
    "{article_id}": {"title": "t", "body": "b"},
    "keys": {"client": "matrix-client"},
    "reply-quality": {"request": "楼道堆物", "reply": "已清理"},
    "triage": {"text": MARKER},
    "register": {"text": "新诉求", "request_type": "complaint", "street": STREET},
}

ACTORS = {
    "anonymous": None,
    "agent": Role.AGENT,
    "dispatcher": Role.DISPATCHER,
    "callback": Role.CALLBACK,
    "leader": Role.LEADER,
    "analyst": Role.ANALYST,
    "admin": Role.ADMIN,
    f"unit-{STREET}": Role.HANDLER,  # own unit: holds the case
    f"unit-{OTHER_STREET}": Role.HANDLER,  # other unit
}
OTHER_UNIT = f"unit-{OTHER_STREET}"
OWN_UNIT = f"unit-{STREET}"


def api_routes(client: TestClient) -> list[str]:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    return [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops]


def may(role: Role | None, capability: Capability) -> bool:
    return role is not None and can(role, capability)


def fill(path: str, case_id: int) -> str:
    values = {
        "case_id": str(case_id),
        "month": "2026-10",
        "unit": STREET,
        "article_id": "999999",
        "fmt": "json",
        "code": "x",
        "request_id": str(case_id),
        "token": "no-such-token",
        "client": "no-such-client",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def body_for(route: str) -> dict[str, Any] | None:
    method, path = route.split(" ", 1)
    if method in ("GET", "DELETE"):
        return None
    last = path.rsplit("/", 1)[-1]
    if path == "/api/v1/cases":
        return BODIES["register"]
    return BODIES.get(last, {})


def test_every_route_has_an_expectation(client: TestClient) -> None:
    missing = [r for r in api_routes(client) if r not in KIND]
    assert not missing, f"routes with no expectation in the authorization matrix: {missing}"


def _state(db: Database, case_id: int) -> tuple[int, str, int]:
    with db.engine.connect() as conn:
        version, status = conn.execute(
            sa.select(Case.version, Case.status).where(Case.id == case_id)
        ).one()
        events = conn.scalar(
            sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
        )
    return version, status, int(events or 0)


def test_matrix(client: TestClient, db: Database, clock: FixedClock) -> None:
    # The citizen's name and number are in the text too: masking must reach the text (#16).
    case = register(
        db,
        clock,
        text=f"{MARKER}：楼道堆物，我是{NAME}，电话{PHONE}",
        citizen={"name": NAME, "phone": PHONE},
    )
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    before = _state(db, case.id)
    headers = {name: auth(client, name) if role else {} for name, role in ACTORS.items()}
    failures: list[str] = []

    def check(ok: bool, route: str, actor: str, resp: Any, why: str) -> None:
        if not ok:
            failures.append(f"{route} as {actor}: {resp.status_code} {why}: {resp.text[:160]}")

    for route in api_routes(client):
        kind = KIND[route]
        method, path = route.split(" ", 1)
        url = fill(path, case.id)
        for actor, role in ACTORS.items():
            last = path.rsplit("/", 1)[-1]
            writer = kind == CASE_ACTION and role in lifecycle_roles(Action(last))
            if writer and actor != OTHER_UNIT:
                continue  # allowed roles are the lifecycle tests' business
            if kind == SELF and role is not None:
                continue
            resp = client.request(method, url, json=body_for(route), headers=headers[actor])
            text = resp.text
            check(resp.status_code < 500, route, actor, resp, "server error")
            if role is None and kind != PUBLIC and kind != OTHER:
                check(resp.status_code == 401, route, actor, resp, "must need a login")
            if actor == OTHER_UNIT and kind != PUBLIC:
                # Open311 shows every request's description publicly (redacted: no personal
                # data, no building or room); everywhere else another unit's case is invisible.
                check(MARKER not in text, route, actor, resp, "other unit sees the case")
                if kind in (CASE_READ, CASE_ACTION, REVEAL, Cap.READ_CASE_EVENTS):
                    check(resp.status_code == 404, route, actor, resp, "other unit must get 404")
            if kind == CASE_ACTION and role is not None and actor != OTHER_UNIT:
                check(resp.status_code in (403, 409), route, actor, resp, "role must be refused")
            if kind == REVEAL and role is not None and actor != OTHER_UNIT:
                allowed = may(role, REVEAL)
                check((resp.status_code == 200) == allowed, route, actor, resp, "reveal rule")
            if isinstance(kind, Capability) and role is not None:
                # The table's answer, and only it, decides the 403 (a permitted role may
                # still get 404 for an empty lake or another unit's case, 422 for input).
                refused = resp.status_code == 403
                check(refused != may(role, kind), route, actor, resp, f"table says {kind}")
            if kind == PUBLIC:
                check(PHONE not in text and NAME not in text, route, actor, resp, "personal data")
            shows_phone = may(role, Cap.VIEW_UNMASKED) or (kind == REVEAL and may(role, REVEAL))
            if not shows_phone:
                check(PHONE not in text and NAME not in text, route, actor, resp, "unmasked")
            if kind in (CASE_READ, Cap.READ_CASE_EVENTS) and actor == OWN_UNIT:
                check(resp.status_code == 200, route, actor, resp, "own unit must read its case")
    assert not failures, "\n".join(failures)
    assert _state(db, case.id) == before, "a refused request changed the case"


@pytest.mark.parametrize("action", sorted(a.value for a in Action if a.value != "register"))
def test_action_bodies_are_valid(action: str) -> None:
    # Guards the matrix: a refusal must come from the role, never from a malformed body.
    from jiesu.cases.schemas import ACTION_SCHEMAS

    ACTION_SCHEMAS[action].model_validate(BODIES.get(action, {}))


def test_register_roles_match_the_workflow() -> None:
    assert Role.CITIZEN in REGISTER_ROLES and Role.HANDLER not in REGISTER_ROLES
