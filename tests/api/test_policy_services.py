"""Policy writes through their services (sla, routing, assessment), as the API and CLI would
make them: they take effect exactly as the same change made on the admin page."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiesu.auth.actor import Actor
from jiesu.cases.workflow import Role
from jiesu.clock import FixedClock
from jiesu.errors import InvalidInput
from jiesu.routing.models import RoutingRule
from jiesu.routing.service import add_rule
from jiesu.sla.models import CalendarDay, SlaPolicy
from jiesu.sla.service import NewTimeLimits, add_time_limits, set_calendar_day
from jiesu.web.models import AdminChange
from tests.api.test_pages_admin import _restore_reference_tables  # noqa: F401 (autouse)
from tests.conftest import Database
from tests.helpers import DISTRICT, STREET, TZ, auth, register

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


def _reply_due_of_one_dispatched_now(
    client: TestClient, db: Database, clock: FixedClock, disp: dict[str, str]
) -> tuple[int, datetime]:
    """A normal complaint registered and dispatched now through the API, and its reply due."""
    case = register(db, clock, category="050101", street=STREET, urgency="normal")
    url = f"/api/v1/cases/{case.id}"
    sent = client.post(f"{url}/dispatch", json={"lead_unit": STREET}, headers=disp)
    assert sent.status_code == 200, sent.text
    return case.id, datetime.fromisoformat(client.get(url, headers=disp).json()["reply_due"])


@pytest.mark.usefixtures("restores_reference_data")
def test_a_calendar_day_set_by_the_service_moves_later_due_times(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    disp = auth(client, "dispatcher")
    # Dispatched on Monday 12 October 2026 at 10:00: seven working days, due Wednesday the 21st.
    first, before = _reply_due_of_one_dispatched_now(client, db, clock, disp)
    assert before.astimezone(TZ).date() == date(2026, 10, 21)
    # Wednesday the 14th made a holiday: a case dispatched afterwards is due a day later.
    with db.uow() as uow:
        set_calendar_day(uow, clock, ADMIN, date(2026, 10, 14), "holiday", "临时休假")
    _, due = _reply_due_of_one_dispatched_now(client, db, clock, disp)
    assert due == before + timedelta(days=1)
    # Saturday the 17th made a make-up workday (调休上班): the day is won back.
    with db.uow() as uow:
        set_calendar_day(uow, clock, ADMIN, date(2026, 10, 17), "workday", "调休上班")
    _, due = _reply_due_of_one_dispatched_now(client, db, clock, disp)
    assert due == before
    # A case keeps the due time it was given; each day set is a line of the change log.
    shown = client.get(f"/api/v1/cases/{first}", headers=disp).json()
    assert datetime.fromisoformat(shown["reply_due"]) == before
    with db.uow() as uow:
        lines = uow.session.scalars(
            select(AdminChange).where(AdminChange.kind == "holidays").order_by(AdminChange.id)
        )
        assert [(c.actor, c.subject) for c in lines] == [
            ("admin", "holiday 2026-10-14"),
            ("admin", "workday 2026-10-17"),
        ]


@pytest.mark.usefixtures("restores_reference_data")
def test_a_refused_calendar_day_leaves_nothing(db: Database, clock: FixedClock) -> None:
    day = date(2026, 10, 14)  # a Wednesday
    refused = (
        ("rest", "", "kind"),  # neither a holiday nor a make-up workday
        ("holiday", "假" * 51, "name"),  # longer than the column
        ("workday", "调休上班", "day"),  # a weekday is a working day already
    )
    for kind, name, field in refused:
        with db.uow() as uow:
            try:
                set_calendar_day(uow, clock, ADMIN, day, kind, name)
            except InvalidInput as exc:
                assert exc.details is not None and exc.details["field"] == field
            else:
                raise AssertionError(f"{kind!r} / {len(name)} characters was accepted")
    with db.uow() as uow:
        assert uow.session.get(CalendarDay, day) is None
        assert uow.session.scalars(select(AdminChange)).all() == []
