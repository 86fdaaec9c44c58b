"""Policy writes through their services (sla, routing, assessment), as the API and CLI would
make them: they take effect exactly as the same change made on the admin page."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiesu.auth.actor import Actor
from jiesu.cases.workflow import Role
from jiesu.clock import FixedClock
from jiesu.errors import InvalidInput
from jiesu.routing.models import RoutingRule
from jiesu.routing.service import add_rule
from jiesu.sla.models import SlaPolicy
from jiesu.sla.service import NewTimeLimits, add_time_limits
from jiesu.web.models import AdminChange
from tests.api.test_pages_admin import _restore_reference_tables  # noqa: F401 (autouse)
from tests.conftest import Database
from tests.helpers import DISTRICT, STREET, auth, register

ADMIN = Actor("admin", Role.ADMIN)


def test_a_routing_rule_added_by_the_service_routes_an_api_dispatch(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    rule = RoutingRule(
        category_prefix="0501",
        area_code="",
        target=DISTRICT,
        co_targets="",
        note="区管路灯",
        effective_from=clock.now(),
    )
    with db.uow() as uow:
        add_rule(uow, clock, ADMIN, rule)
    case = register(db, clock, category="050101")
    disp = auth(client, "dispatcher")
    # No lead unit given: the routing rules choose, and the service's rule is the most specific.
    resp = client.post(f"/api/v1/cases/{case.id}/dispatch", json={}, headers=disp)
    assert resp.status_code == 200, resp.text
    assert client.get(f"/api/v1/cases/{case.id}", headers=disp).json()["lead_unit"] == DISTRICT
    # The change log names who made it, as for a rule added on the page.
    with db.uow() as uow:
        change = uow.session.scalars(select(AdminChange).where(AdminChange.kind == "routing"))
        assert [(c.actor, "0501" in c.subject) for c in change] == [("admin", True)]


def test_a_refused_service_write_leaves_nothing(db: Database, clock: FixedClock) -> None:
    with db.uow() as uow:
        rules = uow.session.scalar(select(func.count()).select_from(RoutingRule))
    bad = RoutingRule(
        category_prefix="0501",
        area_code="",
        target="nowhere",
        co_targets="",
        note="",
        effective_from=clock.now(),
    )
    with db.uow() as uow:
        try:
            add_rule(uow, clock, ADMIN, bad)
        except InvalidInput as exc:
            assert exc.details == {"field": "target", "unit": "nowhere"}
        else:
            raise AssertionError("an unknown unit was accepted as a target")
    with db.uow() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(RoutingRule)) == rules
        assert s.scalars(select(AdminChange)).all() == []


def test_a_time_limit_version_added_by_the_service_governs_new_cases(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    cmd = NewTimeLimits(
        request_type="complaint",
        category_prefix="05",
        urgency="normal",
        contact=(1, "hours"),
        reply=(2, "hours"),
        callback=(1, "workdays"),
        effective_from=clock.now(),
    )
    with db.uow() as uow:
        row = add_time_limits(uow, clock, ADMIN, cmd)
    with db.uow() as uow:
        top = uow.session.scalar(select(func.max(SlaPolicy.version)))
    assert row.version == top
    clock.advance(timedelta(minutes=1))
    case = register(db, clock, category="050101", street=STREET)
    disp = auth(client, "dispatcher")
    sent = client.post(
        f"/api/v1/cases/{case.id}/dispatch", json={"lead_unit": STREET}, headers=disp
    )
    assert sent.status_code == 200, sent.text
    # Dispatched under the new version: the reply is due two hours after the dispatch.
    shown = client.get(f"/api/v1/cases/{case.id}", headers=disp).json()
    assert shown["policy_version"] == row.version
    assert datetime.fromisoformat(shown["reply_due"]) == clock.now() + timedelta(hours=2)
