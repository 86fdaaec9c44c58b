"""Unmasking a citizen's name and phone (DESIGN §9): allowed to the units holding the case
and to leaders, only with a reason, and every time written to access_log.

The centre's own agents, dispatchers and callback agents see the data whole already (they
call the citizen), so they have nothing to reveal here; everyone else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from jiesu.audit.models import AccessLog
from jiesu.auth.actor import Actor
from jiesu.auth.permissions import Capability, require
from jiesu.cases.service import visible_case
from jiesu.errors import InvalidInput

MIN_REASON = 4
REVEALED_FIELDS = "citizen_name,citizen_phone"


@dataclass(frozen=True)
class Revealed:
    case_id: int
    name: str
    phone: str
    logged_at: datetime


def reveal_citizen(
    session: Session, actor: Actor, case_id: int, reason: str, now: datetime
) -> Revealed:
    """The citizen's full name and phone; adds the access_log row (the caller commits).

    A unit that does not hold the case gets "not found", as for every other read."""
    require(actor, Capability.REVEAL_CITIZEN)
    # Visibility first: a unit learns nothing about another unit's case, not even by a 422.
    case = visible_case(session, actor, case_id)
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput(
            f"reason: say why you need the citizen's contact data (at least {MIN_REASON} "
            "characters)",
            details={"field": "reason"},
        )
    session.add(
        AccessLog(
            at=now,
            actor=actor.username,
            role=actor.role.value,
            unit_code=actor.unit_code,
            case_id=case.id,
            fields=REVEALED_FIELDS,
            reason=reason,
        )
    )
    return Revealed(case.id, case.citizen_name, case.citizen_phone, now)
