"""The transition table, exhaustively: every allowed (status, action, role) succeeds, every
other one raises — and the guards refuse what the rules of 接诉即办 forbid."""

from __future__ import annotations

import itertools

import pytest

from jiesu.cases.workflow import (
    GUARDS,
    TABLE,
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
    assert set(GUARDS) <= actions
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
