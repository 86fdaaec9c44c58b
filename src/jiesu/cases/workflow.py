"""The case lifecycle as a pure state machine (DESIGN §3): no I/O, no framework.

One table of (status, action) → (roles allowed, next status), and guards over plain facts
about the case and the actor. The service asks `decide()` before it writes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from jiesu.reasons import Reason


class Status(StrEnum):
    REGISTERED = "registered"
    ANSWERED = "answered"
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    RETURNED = "returned"
    REPLIED = "replied"
    CLOSED = "closed"
    MERGED = "merged"
    TERMINATED = "terminated"


# The status sets every query and page uses; no module spells them out again.
# Terminal: no action changes the status any more (a closed case can still be reopened).
TERMINAL = frozenset({Status.ANSWERED, Status.MERGED, Status.TERMINATED})
# Open: the centre or a unit still owes the citizen something.
OPEN = frozenset(
    {Status.REGISTERED, Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED, Status.REPLIED}
)
# Finished (Open311's "closed"): every status that is not open.
FINISHED = frozenset(Status) - OPEN
# With a unit: the lead unit's contact and reply time limits run (sla/due.py).
WITH_UNIT = frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED, Status.RETURNED})
# Handled: the lead unit has replied (办结反馈); the case waits for its callback or is closed.
HANDLED = frozenset({Status.REPLIED, Status.CLOSED})


def values(statuses: Iterable[Status]) -> list[str]:
    """A status set as the strings stored in case.status, for SQL (`Case.status.in_`)."""
    return sorted(s.value for s in statuses)


# 提级: 1 district coordination, 2 city coordination; no level above.
MAX_ESCALATION = 2


class Action(StrEnum):
    REGISTER = "register"
    ANSWER = "answer"
    DISPATCH = "dispatch"
    ACKNOWLEDGE = "acknowledge"
    CONTACT = "contact"
    RETURN = "return"
    APPROVE_RETURN = "approve_return"
    REJECT_RETURN = "reject_return"
    REASSIGN = "reassign"
    WHISTLE = "whistle"
    ACCEPT_TASK = "accept_task"
    REPLY_TASK = "reply_task"
    ESCALATE = "escalate"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    REPLY = "reply"
    CALLBACK = "callback"
    REOPEN = "reopen"
    MERGE = "merge"
    TERMINATE = "terminate"
    REQUEST_EXCLUSION = "request_exclusion"
    APPROVE_EXCLUSION = "approve_exclusion"
    REJECT_EXCLUSION = "reject_exclusion"


class Role(StrEnum):
    CITIZEN = "citizen"
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    CALLBACK = "callback"
    LEADER = "leader"
    ANALYST = "analyst"
    ADMIN = "admin"


class Relation(StrEnum):
    """How the acting unit stands to the case (only meaningful for handlers)."""

    NONE = "none"
    LEAD = "lead"
    CO = "co"


@dataclass(frozen=True)
class Facts:
    """What the guards need to know; the service fills it from the stored case."""

    relation: Relation = Relation.NONE
    contacted: bool = False
    extension_pending: bool = False
    exclusion_state: str = "none"
    actor_task_status: str | None = None  # the acting unit's whistle task, if any
    escalation_level: int = 0
    has_lead_unit: bool = True
    # merge only: the case named as master, its status (None: it does not exist), and
    # whether it is this very case.
    merge_into: int | None = None
    merge_target: Status | None = None
    merge_into_self: bool = False


@dataclass(frozen=True)
class Transition:
    roles: frozenset[Role]
    to: Status | None  # None: the status stays as it is


class WorkflowError(Exception):
    def __init__(self, reason: Reason | str, status: Status | None, allowed: list[str]) -> None:
        self.reason = reason if isinstance(reason, Reason) else None
        self.message = reason.text if isinstance(reason, Reason) else reason
        super().__init__(self.message)
        self.status = status
        self.allowed = allowed


class IllegalTransition(WorkflowError):
    """The action does not exist for this status and role."""


class GuardFailed(WorkflowError):
    """The action exists here, but a rule of the case forbids it now."""


A, D, H, C, L, Z = (
    Role.AGENT,
    Role.DISPATCHER,
    Role.HANDLER,
    Role.CALLBACK,
    Role.LEADER,
    Role.CITIZEN,
)
S = Status


def _t(roles: set[Role], to: Status | None) -> Transition:
    return Transition(frozenset(roles), to)


# register starts from no status at all; it is kept apart so the table stays total over Status.
REGISTER_ROLES = frozenset({A, D, Z})

TABLE: dict[tuple[Status, Action], Transition] = {
    (S.REGISTERED, Action.ANSWER): _t({A, D}, S.ANSWERED),
    (S.REGISTERED, Action.DISPATCH): _t({A, D}, S.DISPATCHED),
    (S.DISPATCHED, Action.ACKNOWLEDGE): _t({H}, S.ACKNOWLEDGED),
    (S.ACKNOWLEDGED, Action.CONTACT): _t({H}, None),
    (S.DISPATCHED, Action.RETURN): _t({H}, S.RETURNED),
    (S.ACKNOWLEDGED, Action.RETURN): _t({H}, S.RETURNED),
    # An approved return goes back to the dispatcher's queue; a rejected one stays with the
    # unit, which counts as having received it (首接负责).
    (S.RETURNED, Action.APPROVE_RETURN): _t({D}, S.REGISTERED),
    (S.RETURNED, Action.REJECT_RETURN): _t({D}, S.ACKNOWLEDGED),
    (S.DISPATCHED, Action.REASSIGN): _t({D}, S.DISPATCHED),
    (S.ACKNOWLEDGED, Action.REASSIGN): _t({D}, S.DISPATCHED),
    (S.RETURNED, Action.REASSIGN): _t({D}, S.DISPATCHED),
    (S.ACKNOWLEDGED, Action.WHISTLE): _t({H}, None),
    (S.ACKNOWLEDGED, Action.ACCEPT_TASK): _t({H}, None),
    (S.ACKNOWLEDGED, Action.REPLY_TASK): _t({H}, None),
    (S.DISPATCHED, Action.ESCALATE): _t({H, D, L}, None),
    (S.ACKNOWLEDGED, Action.ESCALATE): _t({H, D, L}, None),
    (S.RETURNED, Action.ESCALATE): _t({D, L}, None),
    (S.ACKNOWLEDGED, Action.REQUEST_EXTENSION): _t({H}, None),
    (S.ACKNOWLEDGED, Action.APPROVE_EXTENSION): _t({D, L}, None),
    (S.ACKNOWLEDGED, Action.REJECT_EXTENSION): _t({D, L}, None),
    (S.ACKNOWLEDGED, Action.REPLY): _t({H}, S.REPLIED),
    (S.REPLIED, Action.CALLBACK): _t({C}, S.CLOSED),
    # Consultations and merged duplicates are called back too; their status stays.
    (S.ANSWERED, Action.CALLBACK): _t({C}, None),
    (S.MERGED, Action.CALLBACK): _t({C}, None),
    (S.REPLIED, Action.REOPEN): _t({C, D}, S.DISPATCHED),
    (S.CLOSED, Action.REOPEN): _t({C, D}, S.DISPATCHED),
    (S.REGISTERED, Action.MERGE): _t({A, D}, S.MERGED),
    (S.DISPATCHED, Action.MERGE): _t({D}, S.MERGED),
    (S.ACKNOWLEDGED, Action.MERGE): _t({D}, S.MERGED),
    (S.REGISTERED, Action.TERMINATE): _t({D, L}, S.TERMINATED),
    (S.DISPATCHED, Action.TERMINATE): _t({D, L}, S.TERMINATED),
    (S.ACKNOWLEDGED, Action.TERMINATE): _t({D, L}, S.TERMINATED),
    (S.RETURNED, Action.TERMINATE): _t({D, L}, S.TERMINATED),
    (S.REPLIED, Action.REQUEST_EXCLUSION): _t({H}, None),
    (S.CLOSED, Action.REQUEST_EXCLUSION): _t({H}, None),
    (S.REPLIED, Action.APPROVE_EXCLUSION): _t({D, L}, None),
    (S.CLOSED, Action.APPROVE_EXCLUSION): _t({D, L}, None),
    (S.REPLIED, Action.REJECT_EXCLUSION): _t({D, L}, None),
    (S.CLOSED, Action.REJECT_EXCLUSION): _t({D, L}, None),
}

Guard = Callable[[Role, Facts], Reason | None]


def _lead_only(role: Role, facts: Facts) -> Reason | None:
    # 首接负责: only the lead unit acts for the case; co-handlers work through their tasks.
    if role is Role.HANDLER and facts.relation is not Relation.LEAD:
        return Reason("lead_only")
    return None


def _task(expected: str, refusal: str) -> Guard:
    def guard(role: Role, facts: Facts) -> Reason | None:
        return Reason(refusal) if facts.actor_task_status != expected else None

    return guard


def _contacted(role: Role, facts: Facts) -> Reason | None:
    return None if facts.contacted else Reason("contact_first")


def _no_extension_pending(role: Role, facts: Facts) -> Reason | None:
    return Reason("extension_pending") if facts.extension_pending else None


def _extension_pending(role: Role, facts: Facts) -> Reason | None:
    return None if facts.extension_pending else Reason("no_extension")


def _exclusion_requestable(role: Role, facts: Facts) -> Reason | None:
    if facts.exclusion_state in ("requested", "approved"):
        return Reason(f"exclusion_{facts.exclusion_state}")
    return None


def _exclusion_requested(role: Role, facts: Facts) -> Reason | None:
    return None if facts.exclusion_state == "requested" else Reason("no_exclusion")


def _below_city_level(role: Role, facts: Facts) -> Reason | None:
    return Reason("city_level") if facts.escalation_level >= MAX_ESCALATION else None


def _has_lead_unit(role: Role, facts: Facts) -> Reason | None:
    # 重办 goes back to the unit that replied; a case without one has nobody to reopen it with.
    return None if facts.has_lead_unit else Reason("no_lead_unit")


def _merge_target(role: Role, facts: Facts) -> Reason | None:
    if facts.merge_into_self:
        return Reason("merge_into_self")
    if facts.merge_target in TERMINAL:
        return Reason(
            "merge_target_final", {"id": facts.merge_into, "status": facts.merge_target.value}
        )
    return None


# 首接负责: the actions only the lead unit takes for the case.
LEAD_ONLY = frozenset(
    {
        Action.ACKNOWLEDGE,
        Action.CONTACT,
        Action.RETURN,
        Action.WHISTLE,
        Action.ESCALATE,
        Action.REQUEST_EXTENSION,
        Action.REPLY,
        Action.REQUEST_EXCLUSION,
    }
)

# Guards about who the actor is to the case (lead, co-handler with a task): a page offers
# an action only when these pass, so no one sees a button the server will refuse.
ACTOR_GUARDS: dict[Action, Guard] = {
    **{a: _lead_only for a in LEAD_ONLY},
    Action.ACCEPT_TASK: _task("pending", "no_pending_task"),
    Action.REPLY_TASK: _task("accepted", "no_accepted_task"),
}

# Guards about the case's present state; checked after the actor's.
GUARDS: dict[Action, Guard] = {
    Action.ESCALATE: _below_city_level,
    Action.REQUEST_EXTENSION: _no_extension_pending,
    Action.APPROVE_EXTENSION: _extension_pending,
    Action.REJECT_EXTENSION: _extension_pending,
    Action.REPLY: _contacted,
    Action.REQUEST_EXCLUSION: _exclusion_requestable,
    Action.APPROVE_EXCLUSION: _exclusion_requested,
    Action.REJECT_EXCLUSION: _exclusion_requested,
    Action.REOPEN: _has_lead_unit,
    Action.MERGE: _merge_target,
}


def allowed_actions(status: Status, role: Role, facts: Facts | None = None) -> list[str]:
    """The actions this role may take in this status. With the facts of one actor and case,
    also without those the actor's relation rules out (a co-handler gets no lead-only
    action, a unit without a pending task cannot accept one); the case-state guards (contact
    before reply …) are left to `decide`, whose refusal says what to do first."""
    return [
        a.value
        for (s, a), t in TABLE.items()
        if s is status
        and role in t.roles
        and (facts is None or _actor_guard(a, role, facts) is None)
    ]


def _actor_guard(action: Action, role: Role, facts: Facts) -> Reason | None:
    guard = ACTOR_GUARDS.get(action)
    return guard(role, facts) if guard is not None else None


def decide(status: Status | None, action: Action, role: Role, facts: Facts) -> Status:
    """The status the case moves to, or an error saying why the action is refused."""
    if status is None:
        if action is Action.REGISTER and role in REGISTER_ROLES:
            return Status.REGISTERED
        raise IllegalTransition(f"{role} cannot {action} a new case", None, [])
    transition = TABLE.get((status, action))
    if transition is None or role not in transition.roles:
        raise IllegalTransition(
            Reason(
                "action_not_allowed",
                {"action": action.value, "role": role.value, "status": status.value},
            ),
            status,
            allowed_actions(status, role),
        )
    for guard in (ACTOR_GUARDS.get(action), GUARDS.get(action)):
        refusal = guard(role, facts) if guard is not None else None
        if refusal is not None:
            raise GuardFailed(refusal, status, allowed_actions(status, role))
    return transition.to if transition.to is not None else status
