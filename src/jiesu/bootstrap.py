"""First-run set-up of a centre's database: organisation, taxonomy, policy, calendar, rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.auth.models import User
from jiesu.auth.service import hash_password
from jiesu.cases.workflow import Role
from jiesu.routing.service import seed_default_rules
from jiesu.sla.service import seed_defaults
from jiesu.units.models import Unit
from jiesu.units.service import load_default_organisation

# Rules and policy shipped with jiesu apply from this date on; a centre's own start later.
SHIPPED_FROM = datetime(2020, 1, 1, tzinfo=UTC)
DEMO_PASSWORD = "jiesu-demo"
DEMO_STAFF = {
    "admin": Role.ADMIN,
    "agent": Role.AGENT,
    "dispatcher": Role.DISPATCHER,
    "callback": Role.CALLBACK,
    "leader": Role.LEADER,
    "analyst": Role.ANALYST,
}


@dataclass(frozen=True)
class Loaded:
    units: int
    categories: int


def bootstrap(session: Session) -> Loaded:
    """Idempotent: running it again updates the shipped rows and adds nothing twice."""
    units, categories = load_default_organisation(session)
    seed_defaults(session)
    seed_default_rules(session, SHIPPED_FROM)
    session.flush()
    return Loaded(units, categories)


def create_demo_users(session: Session, now: datetime) -> int:
    """The well-known demo logins: only ever for a demo database.

    One argon2 hash serves every demo login (they share the password anyway), so the ~400
    unit handlers are created in a moment instead of half a minute.
    """
    existing = set(session.scalars(select(User.username)))
    hashed = hash_password(DEMO_PASSWORD)
    wanted: list[tuple[str, Role, str | None]] = [(u, r, None) for u, r in DEMO_STAFF.items()]
    wanted += [
        (f"unit-{code}", Role.HANDLER, code)
        for code in session.scalars(select(Unit.code).order_by(Unit.code))
    ]
    made = 0
    for username, role, unit in wanted:
        if username in existing:
            continue
        session.add(
            User(
                username=username,
                password_hash=hashed,
                role=role.value,
                unit_code=unit,
                display_name=username,
                created_at=now,
            )
        )
        made += 1
    session.flush()
    return made
