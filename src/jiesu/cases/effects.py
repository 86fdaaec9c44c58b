"""What each lifecycle action changes on the case, once the workflow has allowed it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.cases import schemas as s
from jiesu.cases.models import Assignment, Callback, Case, Task
from jiesu.cases.workflow import Action, Status
from jiesu.errors import InvalidInput, NotFound
from jiesu.knowledge.models import Article
from jiesu.routing.service import propose_unit
from jiesu.sla.calendar import WorkCalendar
from jiesu.sla.deadlines import due_at
from jiesu.sla.service import compute_dues, load_calendar, policy_for
from jiesu.units.models import Category, Unit


@dataclass
class Ctx:
    session: Session
    actor: Actor
    case: Case
    now: datetime
    tz: ZoneInfo


@dataclass
class Outcome:
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


def _unit(session: Session, code: str, what: str) -> Unit:
    unit = session.get(Unit, code)
    if unit is None or not unit.active:
        raise InvalidInput.of("unknown_unit", field=what, unit=code)
    return unit


def _set_lead(ctx: Ctx, code: str) -> None:
    ctx.session.execute(
        update(Assignment)
        .where(Assignment.case_id == ctx.case.id, Assignment.role == "lead")
        .values(active=False)
    )
    ctx.session.add(
        Assignment(case_id=ctx.case.id, unit_code=code, role="lead", assigned_at=ctx.now)
    )
    ctx.case.lead_unit = code


def _active_co(ctx: Ctx) -> set[str]:
    return set(
        ctx.session.scalars(
            select(Assignment.unit_code).where(
                Assignment.case_id == ctx.case.id,
                Assignment.role == "co",
                Assignment.active.is_(True),
            )
        )
    )


def _add_co(ctx: Ctx, codes: list[str]) -> list[str]:
    present = _active_co(ctx)
    added = []
    for code in codes:
        if code == ctx.case.lead_unit or code in present:
            continue
        ctx.session.add(
            Assignment(case_id=ctx.case.id, unit_code=code, role="co", assigned_at=ctx.now)
        )
        present.add(code)
        added.append(code)
    return added


def _correct(ctx: Ctx, category: str | None, urgency: str | None) -> dict[str, Any]:
    """Apply the dispatcher's corrections; the event payload keeps what was there before."""
    changes: dict[str, Any] = {}
    case = ctx.case
    if category is not None and category != case.category:
        cat = ctx.session.get(Category, category)
        if cat is None or not cat.active:
            raise InvalidInput.of("unknown_category", field="category", category=category)
        changes["category"] = {"from": case.category, "to": category}
        case.category = category
    if urgency is not None and urgency != case.urgency:
        changes["urgency"] = {"from": case.urgency, "to": urgency}
        case.urgency = urgency
    return changes


def _start_clock(ctx: Ctx) -> str:
    case = ctx.case
    if case.contact_due is not None and case.reply_due is not None:
        return "kept"
    dues = compute_dues(
        ctx.session,
        request_type=case.request_type,
        category=case.category,
        urgency=case.urgency,
        start=ctx.now,
        tz=ctx.tz,
    )
    case.policy_version = dues.policy_version
    case.contact_due = dues.contact_due
    case.reply_due = dues.reply_due
    return "started"


def answer(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.AnswerIn)
    payload: dict[str, Any] = {"text": cmd.text}
    if cmd.article_id is not None:
        article = ctx.session.get(Article, cmd.article_id)
        if article is None or not article.active:
            raise InvalidInput(
                f"article_id: no active knowledge article {cmd.article_id}",
                details={"field": "article_id"},
            )
        payload["article_id"] = article.id
    ctx.case.answer_text = cmd.text
    ctx.case.closed_at = ctx.now
    return Outcome(payload=payload)


def dispatch(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.DispatchIn)
    case = ctx.case
    corrected = _correct(ctx, cmd.category, cmd.urgency)
    rule = None
    lead = cmd.lead_unit
    co = list(cmd.co_units)
    if not lead:
        decision = propose_unit(ctx.session, case.category, case.district, case.street, ctx.now)
        if decision is None:
            raise InvalidInput(
                "lead_unit: no routing rule matches this case; name the lead unit",
                details={"field": "lead_unit"},
            )
        lead, rule = decision.lead_unit, decision.explanation
        co = co or list(decision.co_units)
    _unit(ctx.session, lead, "lead_unit")
    for code in co:
        _unit(ctx.session, code, "co_units")
    if lead in co:
        raise InvalidInput("co_units: the lead unit cannot also be a co unit")
    _set_lead(ctx, lead)
    added = _add_co(ctx, co)
    clock = _start_clock(ctx)
    case.dispatched_at = ctx.now
    payload = {"lead_unit": lead, "co_units": added, "rule": rule, "clock": clock}
    return Outcome(payload=payload | corrected)


def acknowledge(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    ctx.case.acknowledged_at = ctx.now
    return Outcome()


def contact(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ContactIn)
    first = ctx.case.contacted_at is None
    if first:
        # The first contact is the one the response rate measures (DESIGN §6).
        ctx.case.contacted_at = ctx.now
    return Outcome(payload={"note": cmd.note, "first": first})


def return_case(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReturnIn)
    ctx.case.return_reason = cmd.reason
    return Outcome(reason=cmd.reason, payload={"evidence": cmd.evidence})


def approve_return(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ApproveReturnIn)
    case = ctx.case
    old = case.lead_unit
    ctx.session.execute(
        update(Assignment)
        .where(Assignment.case_id == case.id, Assignment.role == "lead")
        .values(active=False)
    )
    case.lead_unit = None
    if cmd.reset_clock:
        case.contact_due = case.reply_due = None
    return Outcome(
        reason=cmd.reason,
        payload={"returned_by": old, "clock": "reset" if cmd.reset_clock else "kept"},
    )


def reject_return(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    ctx.case.acknowledged_at = ctx.case.acknowledged_at or ctx.now
    return Outcome(reason=cmd.reason)


def reassign(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReassignIn)
    old = ctx.case.lead_unit
    _unit(ctx.session, cmd.lead_unit, "lead_unit")
    if cmd.lead_unit == old:
        raise InvalidInput("lead_unit: the case is already with this unit")
    _set_lead(ctx, cmd.lead_unit)
    ctx.session.execute(
        update(Assignment)
        .where(
            Assignment.case_id == ctx.case.id,
            Assignment.role == "co",
            Assignment.unit_code == cmd.lead_unit,
        )
        .values(active=False)
    )
    if cmd.reset_clock:
        ctx.case.contact_due = ctx.case.reply_due = None
    clock = _start_clock(ctx)
    ctx.case.acknowledged_at = None
    ctx.case.dispatched_at = ctx.now
    return Outcome(reason=cmd.reason, payload={"from": old, "to": cmd.lead_unit, "clock": clock})


def whistle(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.WhistleIn)
    case = ctx.case
    if len(set(cmd.units)) != len(cmd.units):
        raise InvalidInput("units: a unit is named twice")
    for code in cmd.units:
        _unit(ctx.session, code, "units")
        if code == case.lead_unit:
            raise InvalidInput("units: the lead unit cannot summon itself")
    due = ctx.now + timedelta(hours=cmd.due_hours) if cmd.due_hours else case.reply_due
    if due is None:
        raise InvalidInput("due_hours: the case has no reply time limit; give due_hours")
    open_tasks = set(
        ctx.session.scalars(
            select(Task.unit_code).where(Task.case_id == case.id, Task.status != "replied")
        )
    )
    busy = [u for u in cmd.units if u in open_tasks]
    if busy:
        raise InvalidInput.of("open_task_exists", field="units", units=", ".join(busy))
    for code in cmd.units:
        ctx.session.add(
            Task(case_id=case.id, unit_code=code, reason=cmd.reason, due=due, created_at=ctx.now)
        )
    _add_co(ctx, list(cmd.units))
    return Outcome(reason=cmd.reason, payload={"units": cmd.units, "due": due.isoformat()})


def _my_task(ctx: Ctx, status: str) -> Task:
    task = ctx.session.scalars(
        select(Task)
        .where(
            Task.case_id == ctx.case.id,
            Task.unit_code == ctx.actor.unit_code,
            Task.status == status,
        )
        .order_by(Task.id.desc())
    ).first()
    if task is None:
        raise NotFound("no such co-handling task for your unit")
    return task


def accept_task(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    task = _my_task(ctx, "pending")
    task.status = "accepted"
    return Outcome(payload={"task": task.id})


def reply_task(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.TextIn)
    task = _my_task(ctx, "accepted")
    task.status = "replied"
    task.reply_text = cmd.text
    task.replied_at = ctx.now
    return Outcome(payload={"task": task.id, "text": cmd.text})


def escalate(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    # The workflow's guard keeps the level at MAX_ESCALATION at most.
    ctx.case.escalation_level += 1
    return Outcome(reason=cmd.reason, payload={"level": ctx.case.escalation_level})


def request_extension(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ExtensionIn)
    ctx.case.extension_pending_days = cmd.days
    ctx.case.extension_pending_reason = cmd.reason
    return Outcome(reason=cmd.reason, payload={"days": cmd.days})


def _calendar(ctx: Ctx) -> WorkCalendar:
    return load_calendar(ctx.session)


def approve_extension(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.OptionalReasonIn)
    case = ctx.case
    days = case.extension_pending_days or 0
    old = case.reply_due
    base = old or ctx.now
    case.reply_due = _calendar(ctx).add_workdays(base, days, ctx.tz)
    case.extension_pending_days = None
    case.extension_pending_reason = ""
    return Outcome(
        reason=cmd.reason,
        payload={
            "days": days,
            "old_reply_due": old.isoformat() if old else None,
            "reply_due": case.reply_due.isoformat(),
        },
    )


def reject_extension(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    days = ctx.case.extension_pending_days
    ctx.case.extension_pending_days = None
    ctx.case.extension_pending_reason = ""
    return Outcome(reason=cmd.reason, payload={"days": days})


def reply(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.TextIn)
    case = ctx.case
    case.reply_text = cmd.text
    case.replied_at = ctx.now
    policy = policy_for(ctx.session, case.request_type, case.category, case.urgency, ctx.now)
    case.callback_due = due_at(ctx.now, policy.callback, _calendar(ctx), ctx.tz)
    open_tasks = ctx.session.scalars(
        select(Task.unit_code).where(Task.case_id == case.id, Task.status != "replied")
    ).all()
    return Outcome(payload={"text": cmd.text, "open_tasks": list(open_tasks)})


def callback(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.CallbackIn)
    case = ctx.case
    ctx.session.add(
        Callback(
            case_id=case.id,
            at=ctx.now,
            unit_code=case.lead_unit,
            contacted=cmd.contacted,
            resolved=cmd.resolved,
            satisfaction=cmd.satisfaction,
            by_user=ctx.actor.username,
            note=cmd.note,
        )
    )
    if case.status == Status.REPLIED.value:
        case.closed_at = ctx.now
    return Outcome(
        payload={
            "contacted": cmd.contacted,
            "resolved": cmd.resolved,
            "satisfaction": cmd.satisfaction,
            "note": cmd.note,
        }
    )


def reopen(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    case = ctx.case
    case.reopen_count += 1
    case.replied_at = case.closed_at = case.callback_due = case.acknowledged_at = None
    # 重办: back to the same lead unit with a fresh reply time limit.
    case.contact_due = case.reply_due = None
    clock = _start_clock(ctx)
    case.dispatched_at = ctx.now
    return Outcome(reason=cmd.reason, payload={"lead_unit": case.lead_unit, "clock": clock})


def merge(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.MergeIn)
    # The workflow's guard has refused this case itself and a terminal master.
    master = ctx.session.get(Case, cmd.into)
    if master is None:
        raise InvalidInput.of("case_missing", field="into", id=cmd.into)
    ctx.case.master_case_id = master.id
    ctx.case.closed_at = ctx.now
    return Outcome(payload={"into": master.id})


def terminate(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    ctx.case.closed_at = ctx.now
    return Outcome(reason=cmd.reason)


def request_exclusion(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    ctx.case.exclusion_state = "requested"
    ctx.case.exclusion_reason = cmd.reason
    return Outcome(reason=cmd.reason)


def approve_exclusion(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.OptionalReasonIn)
    ctx.case.exclusion_state = "approved"
    return Outcome(reason=cmd.reason, payload={"requested_reason": ctx.case.exclusion_reason})


def reject_exclusion(ctx: Ctx, cmd: s.ActionIn) -> Outcome:
    assert isinstance(cmd, s.ReasonIn)
    ctx.case.exclusion_state = "rejected"
    return Outcome(reason=cmd.reason)


EFFECTS: dict[Action, Callable[[Ctx, s.ActionIn], Outcome]] = {
    Action.ANSWER: answer,
    Action.DISPATCH: dispatch,
    Action.ACKNOWLEDGE: acknowledge,
    Action.CONTACT: contact,
    Action.RETURN: return_case,
    Action.APPROVE_RETURN: approve_return,
    Action.REJECT_RETURN: reject_return,
    Action.REASSIGN: reassign,
    Action.WHISTLE: whistle,
    Action.ACCEPT_TASK: accept_task,
    Action.REPLY_TASK: reply_task,
    Action.ESCALATE: escalate,
    Action.REQUEST_EXTENSION: request_extension,
    Action.APPROVE_EXTENSION: approve_extension,
    Action.REJECT_EXTENSION: reject_extension,
    Action.REPLY: reply,
    Action.CALLBACK: callback,
    Action.REOPEN: reopen,
    Action.MERGE: merge,
    Action.TERMINATE: terminate,
    Action.REQUEST_EXCLUSION: request_exclusion,
    Action.APPROVE_EXCLUSION: approve_exclusion,
    Action.REJECT_EXCLUSION: reject_exclusion,
}
