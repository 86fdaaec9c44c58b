"""Reads of the case aggregate, scoped to what the actor may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.auth.permissions import Capability, can
from jiesu.cases import personal
from jiesu.cases.models import Assignment, Case, CaseEvent, Task
from jiesu.cases.schemas import CaseOut, CasePage, EventOut, TaskOut
from jiesu.cases.service import visible_case
from jiesu.cases.workflow import Facts, Relation, Status, allowed_actions
from jiesu.privacy.redact import redact, redact_value
from jiesu.sla.due import overdue_kinds

# Who sees a citizen's name and number whole is Capability.VIEW_UNMASKED (auth/permissions.py).
# The masking covers what the citizen said, too: text, replies, notes and event payloads are
# redacted for everyone else.


def shown_text(case: Case, actor: Actor) -> Callable[[str], str]:
    """How this actor reads free text about this case: whole, or without personal data
    (phones, ID numbers, e-mails, bank cards, the citizen's own name and number)."""
    if can(actor, Capability.VIEW_UNMASKED):
        return lambda text: text
    known = (case.citizen_name, case.citizen_phone)
    return lambda text: redact(text, known)


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "*" * (len(digits) - 7) + "".join(digits[-4:])


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _citizen(case: Case, actor: Actor) -> dict[str, str]:
    if can(actor, Capability.VIEW_UNMASKED):
        return {"name": case.citizen_name, "phone": case.citizen_phone}
    return {"name": mask_name(case.citizen_name), "phone": mask_phone(case.citizen_phone)}


def _case_out(
    case: Case, actor: Actor, now: datetime, co: Sequence[str], tasks: Sequence[Task]
) -> CaseOut:
    shown = shown_text(case, actor)
    who = _who(case, actor, co, tasks)
    return CaseOut(
        id=case.id,
        status=case.status,
        version=case.version,
        text=shown(case.text),
        request_type=case.request_type,
        category=case.category,
        urgency=case.urgency,
        channel=case.channel,
        address=shown(case.address),
        district=case.district,
        street=case.street,
        lat=case.lat,
        lon=case.lon,
        citizen=_citizen(case, actor),
        lead_unit=case.lead_unit,
        co_units=sorted(co),
        tasks=[
            TaskOut(
                id=t.id,
                unit=t.unit_code,
                status=t.status,
                due=t.due,
                reason=shown(t.reason),
                reply_text=shown(t.reply_text),
            )
            for t in tasks
        ],
        answer_text=shown(case.answer_text),
        reply_text=shown(case.reply_text),
        master_case_id=case.master_case_id,
        escalation_level=case.escalation_level,
        reopen_count=case.reopen_count,
        extension_pending_days=case.extension_pending_days,
        exclusion_state=case.exclusion_state,
        policy_version=case.policy_version,
        contact_due=case.contact_due,
        reply_due=case.reply_due,
        callback_due=case.callback_due,
        overdue=overdue_kinds(case, now),
        created_at=case.created_at,
        dispatched_at=case.dispatched_at,
        acknowledged_at=case.acknowledged_at,
        contacted_at=case.contacted_at,
        replied_at=case.replied_at,
        closed_at=case.closed_at,
        allowed_actions=allowed_actions(Status(case.status), actor.role, who),
        triage=case.triage if can(actor, Capability.VIEW_TRIAGE) else None,
    )


def _who(case: Case, actor: Actor, co: Sequence[str], tasks: Sequence[Task]) -> Facts | None:
    """What the workflow's actor guards need to offer a unit only its own actions: lead or
    co-handler, and its open task (as cases/service.py `_facts` finds them for an action)."""
    if not actor.is_unit:
        return None
    unit = actor.unit_code
    if unit is not None and unit == case.lead_unit:
        rel = Relation.LEAD
    else:
        rel = Relation.CO if unit in co else Relation.NONE
    open_tasks = [t.status for t in tasks if t.unit_code == unit and t.status != "replied"]
    return Facts(relation=rel, actor_task_status=open_tasks[-1] if open_tasks else None)


def _details(
    session: Session, ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[Task]]]:
    co: dict[int, list[str]] = defaultdict(list)
    tasks: dict[int, list[Task]] = defaultdict(list)
    if not ids:
        return co, tasks
    for case_id, unit in session.execute(
        select(Assignment.case_id, Assignment.unit_code).where(
            Assignment.case_id.in_(ids), Assignment.role == "co", Assignment.active.is_(True)
        )
    ):
        co[case_id].append(unit)
    for task in session.scalars(select(Task).where(Task.case_id.in_(ids)).order_by(Task.id)):
        tasks[task.case_id].append(task)
    return co, tasks


def case_out(session: Session, actor: Actor, case: Case, now: datetime) -> CaseOut:
    co, tasks = _details(session, [case.id])
    return _case_out(case, actor, now, co[case.id], tasks[case.id])


def new_case_out(actor: Actor, case: Case, now: datetime) -> CaseOut:
    """A case registered by this request and committed: it has no co-units and no tasks yet."""
    return _case_out(case, actor, now, [], [])


def get_case(session: Session, actor: Actor, case_id: int, now: datetime) -> CaseOut:
    return case_out(session, actor, visible_case(session, actor, case_id), now)


def scoped(stmt: Select[Any], actor: Actor) -> Select[Any]:
    if actor.is_unit:
        held = exists().where(
            Assignment.case_id == Case.id,
            Assignment.unit_code == actor.unit_code,
            Assignment.active.is_(True),
        )
        stmt = stmt.where(held)
    return stmt


def list_cases(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    status: Sequence[str] = (),
    unit: str | None = None,
    category: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    phone: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CasePage:
    stmt = scoped(select(Case), actor)
    if status:
        stmt = stmt.where(Case.status.in_(list(status)))
    if unit:
        any_role = exists().where(
            Assignment.case_id == Case.id,
            Assignment.unit_code == unit,
            Assignment.active.is_(True),
        )
        stmt = stmt.where(or_(Case.lead_unit == unit, any_role))
    if category:
        stmt = stmt.where(Case.category.startswith(category, autoescape=True))
    if created_from:
        stmt = stmt.where(Case.created_at >= created_from)
    if created_to:
        stmt = stmt.where(Case.created_at < created_to)
    if phone and can(actor, Capability.VIEW_UNMASKED):
        stmt = stmt.where(Case.citizen_phone == phone)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    co, tasks = _details(session, [c.id for c in rows])
    items = [_case_out(c, actor, now, co[c.id], tasks[c.id]) for c in rows]
    return CasePage(items=items, total=total, page=page, page_size=page_size)


def list_events(session: Session, actor: Actor, case_id: int) -> list[EventOut]:
    case = visible_case(session, actor, case_id)
    rows = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    ).all()
    keys = personal.keys_for(session, (case_id,))
    shown = shown_text(case, actor)
    masked = not can(actor, Capability.VIEW_UNMASKED)
    known = (case.citizen_name, case.citizen_phone)
    out = []
    for e in rows:
        # Decrypted first (shredded text reads as its placeholder), then redacted for the
        # roles that see personal data masked.
        reason, payload = personal.open_event(keys, case_id, e.reason, e.payload)
        out.append(
            EventOut(
                id=e.id,
                at=e.at,
                actor=e.actor,
                role=e.role,
                unit=e.unit_code,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                reason=shown(reason),
                payload=redact_value(payload, known) if masked else payload,
            )
        )
    return out
