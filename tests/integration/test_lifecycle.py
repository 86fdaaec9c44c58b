"""The case lifecycle through the real services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from jiesu.cases import schemas as s
from jiesu.cases.models import Assignment, Callback, Case, CaseEvent, Task
from jiesu.cases.service import act
from jiesu.cases.workflow import Action
from jiesu.clock import FixedClock
from jiesu.errors import Conflict, InvalidInput, NotFound
from tests.conftest import Database
from tests.helpers import (
    AGENT,
    CALLBACK,
    DISPATCHER,
    DISTRICT,
    LEADER,
    OTHER_STREET,
    STREET,
    TZ,
    do,
    handler,
    register,
    to_replied,
)


def events(db: Database, case_id: int) -> list[CaseEvent]:
    with db.uow() as uow:
        return list(
            uow.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        )


def get(db: Database, case_id: int) -> Case:
    with db.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        return case


def test_full_path_writes_one_event_per_action(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    assert case.status == "registered" and case.district == DISTRICT
    to_replied(db, clock, case.id)
    closed = do(
        db,
        clock,
        CALLBACK,
        case.id,
        "callback",
        after=timedelta(days=1),
        contacted=True,
        resolved="yes",
        satisfaction="satisfied",
    )
    assert closed.status == "closed" and closed.closed_at == clock.now()
    evs = events(db, case.id)
    assert [e.action for e in evs] == [
        "register",
        "dispatch",
        "acknowledge",
        "contact",
        "reply",
        "callback",
    ]
    assert [(e.from_status, e.to_status) for e in evs][-1] == ("replied", "closed")
    # The status can be recomputed from the events alone.
    assert evs[-1].to_status == closed.status
    assert evs[1].payload["lead_unit"] == STREET


def test_due_times_follow_policy_and_calendar(db: Database, clock: FixedClock) -> None:
    # Friday 25 Sept 2026 is 中秋: a normal case dispatched then is due 7 working days later,
    # counted from the next working day, with the 国庆 holiday skipped (make-up day 9/20 is past).
    clock.set(datetime(2026, 9, 25, 2, 0, tzinfo=UTC))
    case = register(db, clock)
    c = do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    assert c.policy_version == 1
    assert c.contact_due == clock.now() + timedelta(hours=24)
    # Working days: 9/28, 9/29, 9/30, 10/8, 10/9, 10/10 (Sat make-up), 10/12 → end of 10/12.
    assert c.reply_due == datetime(2026, 10, 12, 16, 0, tzinfo=UTC)


def test_urgent_case_gets_two_hours(db: Database, clock: FixedClock) -> None:
    case = register(db, clock, urgency="urgent", text="燃气泄漏，闻到很大的煤气味")
    c = do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    assert c.reply_due == clock.now() + timedelta(hours=2)
    assert c.contact_due == clock.now() + timedelta(hours=1)


def test_category_default_urgency_applies(db: Database, clock: FixedClock) -> None:
    case = register(db, clock, category="010301", text="电梯困人，请尽快处理")  # 电梯困人
    assert case.urgency == "urgent"


def test_dispatch_by_routing_rules(db: Database, clock: FixedClock) -> None:
    case = register(db, clock, category="010101")  # 物业收费 → the street (属地)
    c = do(db, clock, DISPATCHER, case.id, "dispatch")
    assert c.lead_unit == STREET
    assert "rule" in events(db, case.id)[-1].payload
    no_place = register(db, clock, street=None, category="010101")
    with pytest.raises(InvalidInput, match="lead_unit"):
        do(db, clock, DISPATCHER, no_place.id, "dispatch")
    assert get(db, no_place.id).status == "registered"


def test_extension_moves_reply_due_by_working_days(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    c = do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    before = c.reply_due
    assert before is not None
    do(db, clock, handler(), case.id, "acknowledge")
    do(db, clock, handler(), case.id, "request_extension", days=3, reason="需施工")
    with pytest.raises(Conflict, match="already waiting"):
        do(db, clock, handler(), case.id, "request_extension", days=3, reason="再次")
    c = do(db, clock, DISPATCHER, case.id, "approve_extension")
    assert c.reply_due is not None and c.reply_due > before
    assert c.extension_pending_days is None
    assert events(db, case.id)[-1].payload["days"] == 3


def test_return_approve_and_redispatch_keeps_clock_unless_reset(
    db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    first = do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), case.id, "return", reason="不属于本街道", evidence="地图截图")
    c = do(db, clock, DISPATCHER, case.id, "approve_return", reset_clock=False)
    assert c.status == "registered" and c.lead_unit is None
    c = do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=OTHER_STREET)
    assert c.reply_due == first.reply_due  # the review decided the clock runs on
    # The first unit no longer sees the case.
    with pytest.raises(NotFound):
        do(db, clock, handler(), case.id, "acknowledge")


def test_rejected_return_stays_with_the_unit(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), case.id, "return", reason="非本单位职责")
    c = do(db, clock, DISPATCHER, case.id, "reject_return", reason="属于本街道职责")
    assert c.status == "acknowledged" and c.lead_unit == STREET


def test_reassign_moves_the_case(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    c = do(db, clock, DISPATCHER, case.id, "reassign", lead_unit=OTHER_STREET, reset_clock=True)
    assert c.lead_unit == OTHER_STREET and c.status == "dispatched"
    with db.uow() as uow:
        leads = uow.session.scalars(
            select(Assignment.unit_code).where(
                Assignment.case_id == case.id, Assignment.role == "lead", Assignment.active
            )
        ).all()
    assert leads == [OTHER_STREET]


def test_whistle_tasks_for_co_handlers(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), case.id, "acknowledge")
    do(
        db,
        clock,
        handler(),
        case.id,
        "whistle",
        units=["D003", OTHER_STREET],
        reason="需城管和相邻街道协同",
        due_hours=48,
    )
    whistled_at = clock.now()
    co = handler("D003")
    # A co-handler may not return the case (首接负责) nor reply for the lead.
    with pytest.raises(Conflict, match="only the lead unit"):
        do(db, clock, co, case.id, "return", reason="不是我们的")
    with pytest.raises(Conflict, match="no accepted co-handling task"):
        do(db, clock, co, case.id, "reply_task", text="先回复")
    do(db, clock, co, case.id, "accept_task")
    do(db, clock, co, case.id, "reply_task", text="已派执法队清理")
    with db.uow() as uow:
        tasks = {t.unit_code: t for t in uow.session.scalars(select(Task))}
    assert tasks["D003"].status == "replied" and tasks[OTHER_STREET].status == "pending"
    assert tasks["D003"].due == whistled_at + timedelta(hours=48)
    with pytest.raises(InvalidInput, match="already have an open task"):
        do(db, clock, handler(), case.id, "whistle", units=[OTHER_STREET], reason="再吹哨")


def test_escalate_twice_then_refused(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    do(db, clock, handler(), case.id, "escalate", reason="跨区问题")
    c = do(db, clock, LEADER, case.id, "escalate", reason="提级到市级")
    assert c.escalation_level == 2
    with pytest.raises(Conflict, match="city coordination") as err:
        do(db, clock, LEADER, case.id, "escalate", reason="再提级")
    assert err.value.code == "guard_failed"
    assert len(events(db, case.id)) == 4


def test_reopen_returns_to_the_same_unit(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    to_replied(db, clock, case.id)
    do(
        db,
        clock,
        CALLBACK,
        case.id,
        "callback",
        contacted=True,
        resolved="no",
        satisfaction="dissatisfied",
    )
    c = do(db, clock, CALLBACK, case.id, "reopen", reason="市民称未解决")
    assert c.status == "dispatched" and c.lead_unit == STREET and c.reopen_count == 1
    assert c.reply_due is not None and c.reply_due > clock.now()


def test_merge_and_the_merged_citizen_still_gets_a_callback(
    db: Database, clock: FixedClock
) -> None:
    master = register(db, clock)
    dup = register(db, clock, citizen={"name": "李强", "phone": "13900001111"})
    c = do(db, clock, AGENT, dup.id, "merge", into=master.id)
    assert c.status == "merged" and c.master_case_id == master.id
    other = register(db, clock)
    with pytest.raises(Conflict, match="cannot take merges") as err:
        do(db, clock, DISPATCHER, other.id, "merge", into=dup.id)
    assert err.value.code == "guard_failed"
    to_replied(db, clock, master.id)
    do(
        db,
        clock,
        CALLBACK,
        dup.id,
        "callback",
        contacted=True,
        resolved="yes",
        satisfaction="satisfied",
    )
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Callback)) == 1


def test_exclusion_request_and_review(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    to_replied(db, clock, case.id)
    do(db, clock, handler(), case.id, "request_exclusion", reason="诉求超出政策范围")
    c = do(db, clock, DISPATCHER, case.id, "approve_exclusion")
    assert c.exclusion_state == "approved"
    with pytest.raises(Conflict, match="already approved"):
        do(db, clock, handler(), case.id, "request_exclusion", reason="again")


def test_answer_and_terminate_are_terminal(db: Database, clock: FixedClock) -> None:
    inquiry = register(db, clock, request_type="inquiry", street=None)
    c = do(db, clock, AGENT, inquiry.id, "answer", text="居住证在街道社区服务中心办理")
    assert c.status == "answered" and c.answer_text
    bad = register(db, clock)
    c = do(db, clock, DISPATCHER, bad.id, "terminate", reason="恶意骚扰")
    assert c.status == "terminated"
    with pytest.raises(Conflict) as err:
        do(db, clock, DISPATCHER, bad.id, "dispatch", lead_unit=STREET)
    assert err.value.details == {"status": "terminated", "allowed_actions": []}


def test_illegal_action_writes_nothing(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    with pytest.raises(Conflict) as err:
        do(db, clock, DISPATCHER, case.id, "reply", text="直接回复")
    assert err.value.code == "illegal_action"
    assert "dispatch" in err.value.details["allowed_actions"]
    assert [e.action for e in events(db, case.id)] == ["register"]
    assert get(db, case.id).version == 1


def test_invalid_unit_in_dispatch_writes_nothing(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    with pytest.raises(InvalidInput, match="unknown unit"):
        do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit="999999999")
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assignment)) == 0
    assert get(db, case.id).status == "registered"


def test_stale_version_is_refused(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET, version=1)
    with pytest.raises(Conflict, match="version 2, not 1"):
        do(db, clock, handler(), case.id, "acknowledge", version=1)
    assert len(events(db, case.id)) == 2


def test_concurrent_writers_one_wins(db: Database, clock: FixedClock) -> None:
    # Two people load the case at version 2 and both act: the second flush finds the row
    # already moved on and is refused (optimistic concurrency), with nothing written.
    case = register(db, clock)
    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    with db.uow() as first, db.uow() as second:
        stale = second.session.get(Case, case.id)
        assert stale is not None and stale.version == 2
        act(first, clock, handler(), case.id, Action.ACKNOWLEDGE, s.ActionIn(), TZ)
        stale.urgency = "complex"
        with pytest.raises(Conflict, match="changed by someone else"):
            second.commit()
    c = get(db, case.id)
    assert c.status == "acknowledged" and c.urgency == "normal" and c.version == 3


def test_events_are_append_only(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.DatabaseError):
            conn.execute(
                sa.text("UPDATE case_event SET actor='x' WHERE case_id=:c"), {"c": case.id}
            )
        conn.rollback()
        with pytest.raises(sa.exc.DatabaseError):
            conn.execute(sa.text("DELETE FROM case_event WHERE case_id=:c"), {"c": case.id})
