"""Registrations stored in groups (cases/registrar.py): each one answered as it would be alone —
stored with its event and SMS and answered after the commit, or refused on its own — and the
cases of one group offered to each other as duplicates."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest
import sqlalchemy as sa

from jiesu.audit.verify import verify
from jiesu.cases import registrar, service
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.registrar import Registrar, register_group
from jiesu.cases.schemas import CaseOut, RegisterIn
from jiesu.clock import FixedClock
from jiesu.errors import InvalidInput
from jiesu.notify.models import Notification
from tests.conftest import Database
from tests.helpers import AGENT, OTHER_STREET, STREET

TEXT = "东华门街道幸福里3号楼楼道堆物堵塞消防通道，物业不管，希望尽快清理"


def body(**fields: Any) -> RegisterIn:
    data: dict[str, Any] = {
        "text": TEXT,
        "request_type": "complaint",
        "street": STREET,
        "address": "东华门街道幸福里3号楼",
        "citizen": {"name": "王芳", "phone": "13812345678"},
    }
    data.update(fields)
    return RegisterIn.model_validate(data)


def _stored(db: Database) -> dict[int, tuple[int, int]]:
    """Each case id with its number of events and SMS."""
    with db.engine.connect() as conn:
        ids = conn.scalars(sa.select(Case.id)).all()
        events: dict[int, int] = {
            case_id: n
            for case_id, n in conn.execute(
                sa.select(CaseEvent.case_id, sa.func.count()).group_by(CaseEvent.case_id)
            )
        }
        sms: dict[int, int] = {
            case_id: n
            for case_id, n in conn.execute(
                sa.select(Notification.case_id, sa.func.count()).group_by(Notification.case_id)
            )
        }
    return {i: (events.get(i, 0), sms.get(i, 0)) for i in ids}


def test_a_group_stores_each_good_one_and_refuses_each_bad_one(
    db: Database, clock: FixedClock
) -> None:
    group = [
        (AGENT, body()),
        (AGENT, body(street="999999999")),  # unknown street: refused alone
        (AGENT, body(text="景山街道路灯坏了一个月没人修", street=OTHER_STREET)),
        (AGENT, body(category="nope")),  # unknown category: refused alone
    ]
    with db.uow() as uow:
        outcomes = register_group(uow, clock, group)
    assert [type(o).__name__ for o in outcomes] == [
        "CaseOut",
        "InvalidInput",
        "CaseOut",
        "InvalidInput",
    ]
    assert "street" in str(outcomes[1]) and "category" in str(outcomes[3])
    stored = [o for o in outcomes if isinstance(o, CaseOut)]
    # Stored, each with its first event and the citizen's SMS; nothing of the refused ones.
    assert _stored(db) == {o.id: (1, 1) for o in stored}
    assert stored[0].status == "registered" and stored[1].street == OTHER_STREET
    with db.engine.connect() as conn:
        report = verify(conn)
    assert report.ok and report.events == 2


def test_look_alikes_of_one_group_are_offered_to_each_other(
    db: Database, clock: FixedClock
) -> None:
    with db.uow() as uow:
        outcomes = register_group(
            uow, clock, [(AGENT, body()), (AGENT, body(text=TEXT + "。")), (AGENT, body())]
        )
    ids = [o.id for o in outcomes if isinstance(o, CaseOut)]
    with db.uow() as uow:
        triage = {
            c.id: c.triage for c in uow.session.scalars(sa.select(Case).where(Case.id.in_(ids)))
        }
    dups = {i: [d["case_id"] for d in (triage[i] or {})["duplicates"]] for i in ids}
    # One after the other, each would have found the earlier ones in its street's window.
    assert dups == {ids[0]: [], ids[1]: [ids[0]], ids[2]: [ids[0], ids[1]]}


def test_the_registrar_answers_each_caller_after_the_commit(
    db: Database, clock: FixedClock
) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    futures: list[Future[CaseOut]] = []
    lock = threading.Lock()

    def caller(n: int) -> None:
        for k in range(5):
            f = reg.submit(AGENT, body(text=f"{TEXT}（第{n}-{k}次）"))
            with lock:
                futures.append(f)
            f.result(timeout=60)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [f.result() for f in futures]
    assert len({o.id for o in answered}) == 30
    # Every case answered is committed, with its event and SMS.
    assert _stored(db) == {o.id: (1, 1) for o in answered}


def test_a_caller_gone_before_its_turn_is_not_stored(db: Database, clock: FixedClock) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    release = threading.Event()
    original = registrar.register_group

    def slow(*args: Any) -> Any:
        release.wait(30)
        return original(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registrar, "register_group", slow)
        first = reg.submit(AGENT, body())  # taken at once, held in `slow`
        gone = reg.submit(AGENT, body(text="景山街道路灯坏了", street=OTHER_STREET))
        assert gone.cancel()  # its client hung up while it waited
        release.set()
        kept = first.result(timeout=60)
    assert gone.cancelled()
    assert set(_stored(db)) == {kept.id}


def test_a_group_that_fails_is_tried_one_by_one(db: Database, clock: FixedClock) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    original = service.record_registered
    release = threading.Event()
    original_group = registrar.register_group

    def held(*args: Any) -> Any:
        release.wait(30)
        return original_group(*args)

    def record(session: Any, case: Case, actor: Any) -> None:
        if "坏行" in case.text:
            raise RuntimeError("this row cannot be stored")
        original(session, case, actor)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service, "record_registered", record)
        mp.setattr(registrar, "register_group", held)
        opener = reg.submit(AGENT, body(text="开头的一件"))
        # These three wait together while the first is held: they form one group.
        group = [
            reg.submit(AGENT, body(text="第一件")),
            reg.submit(AGENT, body(text="坏行一件")),
            reg.submit(AGENT, body(text="第三件")),
        ]
        release.set()
        opener.result(timeout=60)
        good = [group[0].result(timeout=60), group[2].result(timeout=60)]
        with pytest.raises(RuntimeError, match="cannot be stored"):
            group[1].result(timeout=60)
    assert _stored(db) == {o.id: (1, 1) for o in [opener.result(), *good]}


def test_refused_alone_raises_what_a_lone_registration_raises(
    db: Database, clock: FixedClock
) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    with pytest.raises(InvalidInput, match="street"):
        reg.submit(AGENT, body(street="999999999")).result(timeout=60)
    assert _stored(db) == {}
