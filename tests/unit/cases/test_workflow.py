"""The transition table, exhaustively: every allowed (status, action, role) succeeds, every
other one raises — and the guards refuse what the rules of 接诉即办 forbid."""

from __future__ import annotations

import itertools

import pytest

from jiesu.cases.workflow import (
    ACTOR_GUARDS,
    FINISHED,
    GUARDS,
    MAX_ESCALATION,
    OPEN,
    TABLE,
    TERMINAL,
    WITH_UNIT,
    Action,
    Facts,
    GuardFailed,
    IllegalTransition,
    Relation,
    Role,
    Status,
    allowed_actions,
    decide,
)

# Facts under which every guard passes, per action.
PASSING = {
    Action.ACCEPT_TASK: Facts(relation=Relation.CO, actor_task_status="pending"),
    Action.REPLY_TASK: Facts(relation=Relation.CO, actor_task_status="accepted"),
    Action.APPROVE_EXTENSION: Facts(extension_pending=True),
    Action.REJECT_EXTENSION: Facts(extension_pending=True),
    Action.APPROVE_EXCLUSION: Facts(exclusion_state="requested"),
    Action.REJECT_EXCLUSION: Facts(exclusion_state="requested"),
    Action.REPLY: Facts(relation=Relation.LEAD, contacted=True),
}
LEAD = Facts(relation=Relation.LEAD)

ALL = list(itertools.product(Status, [a for a in Action if a is not Action.REGISTER], Role))


@pytest.mark.parametrize(("status", "action", "role"), ALL, ids=lambda v: str(v))
def test_every_combination(status: Status, action: Action, role: Role) -> None:
    transition = TABLE.get((status, action))
    facts = PASSING.get(action, LEAD)
    if transition is not None and role in transition.roles:
        expected = transition.to or status
        assert decide(status, action, role, facts) is expected
    else:
        with pytest.raises(IllegalTransition) as err:
            decide(status, action, role, facts)
        assert err.value.status is status
        assert err.value.allowed == allowed_actions(status, role)


def test_register_only_by_intake_roles() -> None:
    for role in Role:
        if role in (Role.AGENT, Role.DISPATCHER, Role.CITIZEN):
            assert decide(None, Action.REGISTER, role, Facts()) is Status.REGISTERED
        else:
            with pytest.raises(IllegalTransition):
                decide(None, Action.REGISTER, role, Facts())
    with pytest.raises(IllegalTransition):
        decide(None, Action.DISPATCH, Role.DISPATCHER, Facts())


def test_terminal_statuses_only_take_callbacks() -> None:
    for status in (Status.ANSWERED, Status.MERGED, Status.TERMINATED):
        actions = {a for (s, a) in TABLE if s is status}
        assert actions <= {Action.CALLBACK}


@pytest.mark.parametrize(
    "action",
    [
        Action.ACKNOWLEDGE,
        Action.CONTACT,
        Action.RETURN,
        Action.WHISTLE,
        Action.REQUEST_EXTENSION,
        Action.REPLY,
        Action.REQUEST_EXCLUSION,
    ],
)
def test_co_handler_cannot_act_for_the_lead(action: Action) -> None:
    # 首接负责: a co-handler cannot return the case, reply for it, or act for the lead.
    status = next(s for (s, a) in TABLE if a is action)
    facts = Facts(relation=Relation.CO, contacted=True)
    with pytest.raises(GuardFailed, match="only the lead unit"):
        decide(status, action, Role.HANDLER, facts)


def test_reply_needs_contact_first() -> None:
    with pytest.raises(GuardFailed, match="contact"):
        decide(Status.ACKNOWLEDGED, Action.REPLY, Role.HANDLER, LEAD)
    assert decide(Status.ACKNOWLEDGED, Action.REPLY, Role.HANDLER, PASSING[Action.REPLY]) is (
        Status.REPLIED
    )


def test_extension_review_needs_a_request_and_only_one_at_a_time() -> None:
    with pytest.raises(GuardFailed, match="no extension request"):
        decide(Status.ACKNOWLEDGED, Action.APPROVE_EXTENSION, Role.DISPATCHER, Facts())
    pending = Facts(relation=Relation.LEAD, extension_pending=True)
    with pytest.raises(GuardFailed, match="already waiting"):
        decide(Status.ACKNOWLEDGED, Action.REQUEST_EXTENSION, Role.HANDLER, pending)


def test_exclusion_states() -> None:
    for state in ("requested", "approved"):
        facts = Facts(relation=Relation.LEAD, exclusion_state=state)
        with pytest.raises(GuardFailed):
            decide(Status.CLOSED, Action.REQUEST_EXCLUSION, Role.HANDLER, facts)
    again = Facts(relation=Relation.LEAD, exclusion_state="rejected")
    assert decide(Status.CLOSED, Action.REQUEST_EXCLUSION, Role.HANDLER, again) is Status.CLOSED
    with pytest.raises(GuardFailed):
        decide(Status.CLOSED, Action.APPROVE_EXCLUSION, Role.LEADER, Facts())


def test_task_guards_follow_the_task() -> None:
    with pytest.raises(GuardFailed, match="pending"):
        decide(Status.ACKNOWLEDGED, Action.ACCEPT_TASK, Role.HANDLER, Facts(relation=Relation.CO))
    accepted = Facts(relation=Relation.CO, actor_task_status="accepted")
    with pytest.raises(GuardFailed, match="pending"):
        decide(Status.ACKNOWLEDGED, Action.ACCEPT_TASK, Role.HANDLER, accepted)
    assert decide(Status.ACKNOWLEDGED, Action.REPLY_TASK, Role.HANDLER, accepted) is (
        Status.ACKNOWLEDGED
    )


def test_every_guarded_action_is_in_the_table() -> None:
    actions = {a for (_s, a) in TABLE}
    assert set(GUARDS) | set(ACTOR_GUARDS) <= actions
    assert actions | {Action.REGISTER} == set(Action)


def test_allowed_actions_for_a_handler_on_an_acknowledged_case() -> None:
    assert set(allowed_actions(Status.ACKNOWLEDGED, Role.HANDLER)) == {
        "contact",
        "return",
        "whistle",
        "accept_task",
        "reply_task",
        "escalate",
        "request_extension",
        "reply",
    }


def test_escalation_stops_at_city_level() -> None:
    # 提级: district coordination (1), then city coordination (2); nothing above.
    below = Facts(relation=Relation.LEAD, escalation_level=MAX_ESCALATION - 1)
    assert decide(Status.DISPATCHED, Action.ESCALATE, Role.LEADER, below) is Status.DISPATCHED
    at_cap = Facts(relation=Relation.LEAD, escalation_level=MAX_ESCALATION)
    with pytest.raises(GuardFailed, match="city coordination"):
        decide(Status.DISPATCHED, Action.ESCALATE, Role.LEADER, at_cap)


def test_reopen_needs_the_lead_unit_that_replied() -> None:
    # 重办 goes back to the same unit: a case without one cannot be reopened.
    with pytest.raises(GuardFailed, match="no lead unit"):
        decide(Status.CLOSED, Action.REOPEN, Role.CALLBACK, Facts(has_lead_unit=False))
    assert decide(Status.CLOSED, Action.REOPEN, Role.CALLBACK, Facts()) is Status.DISPATCHED


@pytest.mark.parametrize("target", sorted(TERMINAL))
def test_merge_only_into_a_case_that_can_take_it(target: Status) -> None:
    with pytest.raises(GuardFailed, match=f"case 7 is {target} and cannot take merges"):
        decide(
            Status.REGISTERED, Action.MERGE, Role.AGENT, Facts(merge_into=7, merge_target=target)
        )
    with pytest.raises(GuardFailed, match="into itself"):
        decide(Status.REGISTERED, Action.MERGE, Role.AGENT, Facts(merge_into_self=True))
    open_master = Facts(merge_into=7, merge_target=Status.DISPATCHED)
    assert decide(Status.REGISTERED, Action.MERGE, Role.AGENT, open_master) is Status.MERGED


def test_status_sets_cover_every_status_once() -> None:
    assert set(Status) == OPEN | FINISHED and not OPEN & FINISHED
    assert TERMINAL <= FINISHED and WITH_UNIT <= OPEN


def test_allowed_actions_with_facts_leave_out_what_the_relation_rules_out() -> None:
    # 首接负责: a co-handler is offered its task, never a lead-only action; the lead is
    # offered the lead's actions and no task it does not have.
    co = Facts(relation=Relation.CO, actor_task_status="pending")
    assert allowed_actions(Status.ACKNOWLEDGED, Role.HANDLER, co) == ["accept_task"]
    lead = set(allowed_actions(Status.ACKNOWLEDGED, Role.HANDLER, Facts(relation=Relation.LEAD)))
    assert {"contact", "reply", "return", "request_extension"} <= lead
    assert not lead & {"accept_task", "reply_task"}
    # Case-state guards stay with decide(): the reply is offered before contact, and refused
    # with the reason.
    assert "reply" in lead
