"""Use cases of the case aggregate: every lifecycle action through `act`, and the check of one
registration (`new_case_row`; cases/registration.py stores them).

Each action: load the case the actor may see, ask the workflow, apply the effect, append one
event row, and commit once through the unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.audit.append import append_event
from jiesu.auth.actor import Actor
from jiesu.cases import effects, personal
from jiesu.cases.models import Assignment, Case, Task
from jiesu.cases.schemas import ActionIn, MergeIn, RegisterIn
from jiesu.cases.workflow import (
    Action,
    Facts,
    GuardFailed,
    Relation,
    Status,
    WorkflowError,
    decide,
)
from jiesu.clock import Clock
from jiesu.errors import Conflict, InvalidInput, NotFound
from jiesu.memo import TableMemo
from jiesu.notify.outbox import service as outbox
from jiesu.units.models import Category, Unit
from jiesu.uow import UnitOfWork


class _UnitFacts(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def parent_code(self) -> str | None: ...
    @property
    def active(self) -> bool: ...


U = TypeVar("U", bound=_UnitFacts)


class _UnitRow(NamedTuple):
    kind: str
    parent_code: str | None
    active: bool


class _CategoryRow(NamedTuple):
    urgency: str
    active: bool


# Every registration checks its street, district and category; these tables change a few times
# a year, so each process keeps them for a few seconds (jiesu/memo.py says how fresh).
_UNITS = TableMemo(
    lambda s: {
        code: _UnitRow(kind, parent, active)
        for code, kind, parent, active in s.execute(
            select(Unit.code, Unit.kind, Unit.parent_code, Unit.active)
        )
    },
    watched=(Unit.__tablename__,),
)
_CATEGORIES = TableMemo(
    lambda s: {
        code: _CategoryRow(urgency, active)
        for code, urgency, active in s.execute(
            select(Category.code, Category.urgency, Category.active)
        )
    },
    watched=(Category.__tablename__,),
)


def _unit(session: Session, code: str, field: str, kinds: tuple[str, ...] = ()) -> Unit:
    return _checked(session.get(Unit, code), code, field, kinds)


def _checked(unit: U | None, code: str, field: str, kinds: tuple[str, ...] = ()) -> U:
    if unit is None or not unit.active:
        raise InvalidInput.of("unknown_unit", field=field, unit=code)
    if kinds and unit.kind not in kinds:
        raise InvalidInput(
            f"{field}: '{code}' is a {unit.kind}, expected {' or '.join(kinds)}",
            details={"field": field},
        )
    return unit


def _place(session: Session, cmd: RegisterIn) -> tuple[str | None, str | None]:
    district = cmd.district
    street = cmd.street
    if not street and not district:
        return district, street
    units = _UNITS.get(session)
    if street:
        s = _checked(units.get(street), street, "street", ("street",))
        if district and s.parent_code != district:
            raise InvalidInput(
                f"street '{street}' lies in district '{s.parent_code}', not '{district}'",
                details={"field": "street"},
            )
        district = s.parent_code
    if district:
        _checked(units.get(district), district, "district", ("district",))
    return district, street


def new_case_row(
    session: Session, now: datetime, actor: Actor, cmd: RegisterIn, triage: dict[str, object] | None
) -> dict[str, Any]:
    """Check one registration; its case as a row (cases/registration.py inserts a group's rows
    with one statement)."""
    try:
        decide(None, Action.REGISTER, actor.role, Facts())
    except WorkflowError as exc:
        raise Conflict(exc.message, code="illegal_action", reason=exc.reason) from exc
    urgency: str | None = cmd.urgency
    if cmd.category is not None:
        cat = _CATEGORIES.get(session).get(cmd.category)
        if cat is None or not cat.active:
            raise InvalidInput.of(
                "unknown_category",
                field="category",
                category=cmd.category,
                see="GET /api/v1/categories",
            )
        urgency = urgency or cat.urgency or None
    district, street = _place(session, cmd)
    return {
        "status": Status.REGISTERED.value,
        "text": cmd.text,
        "request_type": cmd.request_type,
        "category": cmd.category,
        "urgency": urgency or "normal",
        "channel": cmd.channel,
        "address": cmd.address,
        "district": district,
        "street": street,
        "lat": cmd.lat,
        "lon": cmd.lon,
        "citizen_name": cmd.citizen.name,
        "citizen_phone": cmd.citizen.phone,
        "created_at": now,
        "updated_at": now,
        "registered_by": actor.username,
        "triage": triage,
    }


def registered_event_row(case: Case, actor: Actor) -> dict[str, Any]:
    """A flushed new case's first event as a row, not yet chained (audit.append.chain_new_cases
    numbers and links a group's rows; cases/registration.py inserts them with one statement)."""
    return _event_row(
        case, actor, Action.REGISTER, None, case.created_at, "", {"channel": case.channel}
    )


def visible_case(session: Session, actor: Actor, case_id: int) -> Case:
    """A unit sees only cases it holds (lead or co); anything else is simply not found."""
    return _visible(session, actor, case_id)[0]


def _visible(session: Session, actor: Actor, case_id: int) -> tuple[Case, Relation]:
    # The relation found here is the one the workflow needs: asked once per action.
    case = session.get(Case, case_id)
    rel = Relation.NONE
    if case is not None and actor.is_unit:
        rel = relation(session, case, actor)
    if case is None or (actor.is_unit and rel is Relation.NONE):
        raise NotFound.of("case_not_found", id=case_id)
    return case, rel


def relation(session: Session, case: Case, actor: Actor) -> Relation:
    if actor.unit_code is None:
        return Relation.NONE
    roles = session.scalars(
        select(Assignment.role).where(
            Assignment.case_id == case.id,
            Assignment.unit_code == actor.unit_code,
            Assignment.active.is_(True),
        )
    ).all()
    if "lead" in roles:
        return Relation.LEAD
    return Relation.CO if roles else Relation.NONE


def _facts(session: Session, case: Case, actor: Actor, rel: Relation, cmd: ActionIn) -> Facts:
    task_status = None
    if actor.unit_code is not None:
        task_status = session.scalar(
            select(Task.status)
            .where(Task.case_id == case.id, Task.unit_code == actor.unit_code)
            .where(Task.status != "replied")
            .order_by(Task.id.desc())
            .limit(1)
        )
    into = cmd.into if isinstance(cmd, MergeIn) else None
    target = session.scalar(select(Case.status).where(Case.id == into)) if into else None
    return Facts(
        relation=rel,
        contacted=case.contacted_at is not None,
        extension_pending=case.extension_pending_days is not None,
        exclusion_state=case.exclusion_state,
        actor_task_status=task_status,
        escalation_level=case.escalation_level,
        has_lead_unit=case.lead_unit is not None,
        merge_into=into,
        merge_target=Status(target) if target is not None else None,
        merge_into_self=into == case.id,
    )


def act(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    case_id: int,
    action: Action,
    cmd: ActionIn,
    tz: ZoneInfo,
) -> Case:
    session = uow.session
    case, rel = _visible(session, actor, case_id)
    if cmd.version is not None and cmd.version != case.version:
        raise Conflict(
            f"case {case_id} is at version {case.version}, not {cmd.version}; reload it",
            code="stale_version",
            details={"status": case.status, "version": case.version},
        )
    from_status = Status(case.status)
    facts = _facts(session, case, actor, rel, cmd)
    try:
        to_status = decide(from_status, action, actor.role, facts)
    except WorkflowError as exc:
        # docs/api.md: a rule of the case refusing (a guard) is guard_failed; an action that
        # does not exist for this status and role is illegal_action.
        raise Conflict(
            exc.message,
            code="guard_failed" if isinstance(exc, GuardFailed) else "illegal_action",
            details={"status": from_status.value, "allowed_actions": exc.allowed},
            reason=exc.reason,
        ) from exc
    now = clock.now()
    ctx = effects.Ctx(session, actor, case, now, tz)
    outcome = effects.EFFECTS[action](ctx, cmd)
    case.status = to_status.value
    case.updated_at = now
    _event(session, case, actor, action, from_status.value, now, outcome.reason, outcome.payload)
    if action is Action.REPLY:
        outbox.enqueue_replied(session, case, now)
        uow.on_commit(outbox.kick)
    uow.commit()
    return case


def _event(
    session: Session,
    case: Case,
    actor: Actor,
    action: Action,
    from_status: str | None,
    at: datetime,
    reason: str,
    payload: dict[str, object],
) -> None:
    # Free text sealed under the case's key (crypto-shredding, cases/personal.py), then linked
    # into the case's hash chain as stored (tamper evidence, `jiesu audit verify`).
    row = personal.seal_event(
        session, _event_row(case, actor, action, from_status, at, reason, payload)
    )
    append_event(session, **row)


def _event_row(
    case: Case,
    actor: Actor,
    action: Action,
    from_status: str | None,
    at: datetime,
    reason: str,
    payload: dict[str, object],
) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "at": at,
        "actor": actor.username,
        "role": actor.role.value,
        "unit_code": actor.unit_code,
        "action": action.value,
        "from_status": from_status,
        "to_status": case.status,
        "reason": reason,
        "payload": payload,
    }
