"""Registrations stored in groups (cases/registrar.py): each one answered as it would be alone —
stored with its event and SMS and answered after the commit, or refused on its own — and the
cases of one group offered to each other as duplicates."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from jiesu import db_bulk
from jiesu.audit.verify import verify
from jiesu.auth.actor import Actor
from jiesu.cases import registrar as registrar_module
from jiesu.cases import registration, service
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.registrar import Registrar
from jiesu.cases.registration import Registered, Registration, register_cases
from jiesu.cases.schemas import RegisterIn
from jiesu.cases.workflow import Role
from jiesu.clock import FixedClock
from jiesu.errors import InvalidInput
from jiesu.intake import idempotency
from jiesu.intake.idempotency import IdempotencyKey, KeyReused
from jiesu.notify.models import Notification
from jiesu.triage import service as triage_service
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


def api(actor: Actor, cmd: RegisterIn, key: str | None = None) -> Registration:
    """A registration as POST /api/v1/cases makes it."""
    claim = idempotency.Key(key, "") if key is not None else None
    return Registration(actor, cmd, claim, propose=True)


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
        api(AGENT, body()),
        api(AGENT, body(street="999999999")),  # unknown street: refused alone
        api(AGENT, body(text="景山街道路灯坏了一个月没人修", street=OTHER_STREET)),
        api(AGENT, body(category="nope")),  # unknown category: refused alone
    ]
    with db.uow() as uow:
        outcomes = register_cases(uow, clock, group)
    assert [type(o).__name__ for o in outcomes] == [
        "Registered",
        "InvalidInput",
        "Registered",
        "InvalidInput",
    ]
    assert "street" in str(outcomes[1]) and "category" in str(outcomes[3])
    stored = [o.case for o in outcomes if isinstance(o, Registered)]
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
        outcomes = register_cases(
            uow,
            clock,
            [
                api(AGENT, body()),
                api(AGENT, body(text=TEXT + "。")),
                api(AGENT, body()),
            ],
        )
    ids = [o.case.id for o in outcomes if isinstance(o, Registered)]
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
    futures: list[Future[Registered]] = []
    lock = threading.Lock()

    def caller(n: int) -> None:
        for k in range(5):
            f = reg.submit(api(AGENT, body(text=f"{TEXT}（第{n}-{k}次）")))
            with lock:
                futures.append(f)
            f.result(timeout=60)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [f.result().case for f in futures]
    assert len({o.id for o in answered}) == 30
    # Every case answered is committed, with its event and SMS.
    assert _stored(db) == {o.id: (1, 1) for o in answered}


def test_a_caller_gone_before_its_turn_is_not_stored(db: Database, clock: FixedClock) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    release = threading.Event()
    original = registration.register_cases

    def slow(*args: Any) -> Any:
        release.wait(30)
        return original(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registration, "register_cases", slow)
        first = reg.submit(api(AGENT, body()))  # taken at once, held in `slow`
        gone = reg.submit(api(AGENT, body(text="景山街道路灯坏了", street=OTHER_STREET)))
        assert gone.cancel()  # its client hung up while it waited
        release.set()
        kept = first.result(timeout=60).case
    assert gone.cancelled()
    assert set(_stored(db)) == {kept.id}


def test_a_group_that_fails_is_tried_one_by_one(db: Database, clock: FixedClock) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    original = service.registered_event_row
    release = threading.Event()
    original_group = registration.register_cases

    def held(*args: Any) -> Any:
        release.wait(30)
        return original_group(*args)

    def event_row(case: Case, actor: Any) -> dict[str, Any]:
        row = original(case, actor)
        # A row the database refuses (NOT NULL): the group's transaction fails at the INSERT.
        return {**row, "action": None} if "坏行" in case.text else row

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service, "registered_event_row", event_row)
        mp.setattr(registration, "register_cases", held)
        opener = reg.submit(api(AGENT, body(text="开头的一件")))
        # These three wait together while the first is held: they form one group.
        group = [
            reg.submit(api(AGENT, body(text="第一件"))),
            reg.submit(api(AGENT, body(text="坏行一件"))),
            reg.submit(api(AGENT, body(text="第三件"))),
        ]
        release.set()
        opener.result(timeout=60)
        good = [group[0].result(timeout=60).case, group[2].result(timeout=60).case]
        with pytest.raises(IntegrityError):
            group[1].result(timeout=60)
    assert _stored(db) == {o.id: (1, 1) for o in [opener.result().case, *good]}


def test_refused_alone_raises_what_a_lone_registration_raises(
    db: Database, clock: FixedClock
) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    with pytest.raises(InvalidInput, match="street"):
        reg.submit(api(AGENT, body(street="999999999"))).result(timeout=60)
    assert _stored(db) == {}


def _keys(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(IdempotencyKey.key, IdempotencyKey.case_id)).all()
    return {key: case_id for key, case_id in rows}


def test_idempotency_keys_in_groups(db: Database, clock: FixedClock) -> None:
    with db.uow() as uow:
        first = register_cases(
            uow,
            clock,
            [
                api(AGENT, body(), key="k-1"),
                api(AGENT, body(), key="k-1"),  # the same key again in the group: a retry
                api(AGENT, body(text="别的事"), key="k-2"),
                api(AGENT, body(text="又一件"), key="k-2"),  # same key, another body
                api(AGENT, body(street="999999999"), key="k-3"),  # refused: no key stored
            ],
        )
    assert isinstance(first[0], Registered) and not first[0].replayed
    assert first[1] == Registered(first[0].case, 201, replayed=True)
    assert isinstance(first[2], Registered)
    assert isinstance(first[3], KeyReused) and isinstance(first[4], InvalidInput)
    assert _keys(db) == {"k-1": first[0].case.id, "k-2": first[2].case.id}
    with db.uow() as uow:
        later = register_cases(
            uow,
            clock,
            [
                api(AGENT, body(), key="k-1"),  # a later retry: the first answer
                api(AGENT, body(text="换了内容"), key="k-1"),
                api(AGENT, body(), key="k-3"),  # refused before, so free now
            ],
        )
    assert isinstance(later[0], Registered) and later[0].replayed
    assert later[0].case.id == first[0].case.id and later[0].status == 201
    assert isinstance(later[1], KeyReused)
    assert isinstance(later[2], Registered) and not later[2].replayed
    assert _stored(db) == {
        i: (1, 1) for i in (first[0].case.id, first[2].case.id, later[2].case.id)
    }


def test_a_key_is_looked_up_in_its_own_scope(db: Database, clock: FixedClock) -> None:
    other = Actor("agent2", Role.AGENT)
    with db.uow() as uow:
        (first,) = register_cases(uow, clock, [api(AGENT, body(), key="k-1")])
    assert isinstance(first, Registered)
    with db.uow() as uow:
        later = register_cases(
            uow,
            clock,
            [
                api(other, body(), key="k-1"),  # another client's k-1: not the agent's
                api(AGENT, body(text="别的事"), key="k-2"),
            ],
        )
    assert all(isinstance(o, Registered) and not o.replayed for o in later)
    assert len({first.case.id} | {o.case.id for o in later if isinstance(o, Registered)}) == 3


def test_a_group_reads_once_for_its_windows_and_keys(db: Database, clock: FixedClock) -> None:
    elsewhere = "景山街道景山前街路灯坏了一个月没人修"
    with db.uow() as uow:  # the two streets' windows are made
        register_cases(uow, clock, [api(AGENT, body()), api(AGENT, body(text=elsewhere))])
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.uow() as uow:
            outcomes = register_cases(
                uow,
                clock,
                [
                    api(AGENT, body(), key="r-1"),
                    api(AGENT, body(text=elsewhere, street=OTHER_STREET), key="r-2"),
                    api(AGENT, body(text=TEXT + "。"), key="r-3"),
                ],
            )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert all(isinstance(o, Registered) for o in outcomes)
    case_reads = [s for s in statements if s.startswith("SELECT") and "FROM case_record" in s]
    # One catch-up for every window (not one query per registration's place).
    assert len(case_reads) == 1, case_reads
    key_reads = [s for s in statements if s.startswith("SELECT") and "FROM idempotency_key" in s]
    # By scope and key: the unique index's leading column (a key alone scans the table).
    assert len(key_reads) == 1 and "idempotency_key.scope IN" in key_reads[0], key_reads


def test_a_group_looks_up_the_live_engine_once(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The live model's file and the taxonomy are looked at once for the group, and every
    # proposal of the group is made by that engine.
    looked: list[object] = []
    real = triage_service.LIVE.triage

    def counted(session: Any) -> Any:
        engine = real(session)
        looked.append(engine)
        return engine

    monkeypatch.setattr(triage_service.LIVE, "triage", counted)
    used: list[object] = []
    real_propose = triage_service.propose

    def propose(*args: Any, **kwargs: Any) -> Any:
        used.append(kwargs.get("engine"))
        return real_propose(*args, **kwargs)

    monkeypatch.setattr(triage_service, "propose", propose)
    with db.uow() as uow:
        outcomes = register_cases(
            uow, clock, [api(AGENT, body(text=f"{TEXT}{i}")) for i in range(4)]
        )
    assert all(isinstance(o, Registered) and o.case.triage for o in outcomes)
    assert len(looked) == 1
    assert used == looked * 4


def test_a_group_whose_engine_fails_is_still_registered(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Triage never blocks intake: with no engine to be had, the group is stored without
    # proposals (each proposal tries alone and fails too), every case answered 201.
    def broken(session: Any) -> Any:
        raise RuntimeError("model directory unreadable")

    monkeypatch.setattr(triage_service.LIVE, "triage", broken)
    with db.uow() as uow:
        outcomes = register_cases(
            uow, clock, [api(AGENT, body(text=f"{TEXT}{i}")) for i in range(3)]
        )
    assert all(isinstance(o, Registered) and o.status == 201 for o in outcomes)
    with db.uow() as uow:
        stored = uow.session.scalars(sa.select(Case.triage)).all()
    assert stored == [None, None, None]


def test_a_key_committed_meanwhile_elsewhere_is_replayed(db: Database, clock: FixedClock) -> None:
    # Another process commits the key between this group's look-up and its commit: the unique
    # key fails the group, each is tried alone, and that one finds the key and replays.
    with db.uow() as uow:
        elsewhere = register_cases(uow, clock, [api(AGENT, body(), key="race")])[0]
    assert isinstance(elsewhere, Registered)
    reg = Registrar(db.factory, clock, max_group=8)
    real = idempotency.stored_keys
    missed: list[int] = []

    def late(session: Any, wanted: set[tuple[str, str]]) -> Any:
        # The group's look-up misses the key (committed just after it).
        if ("agent", "race") in wanted and not missed:
            missed.append(len(wanted))
            return {}
        return real(session, wanted)

    release = threading.Event()
    original_group = registration.register_cases

    def held(*args: Any) -> Any:
        release.wait(30)
        return original_group(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registration, "register_cases", held)
        mp.setattr(idempotency, "stored_keys", late)
        opener = reg.submit(api(AGENT, body(text="先来的")))
        racing = reg.submit(api(AGENT, body(), key="race"))
        other = reg.submit(api(AGENT, body(text="同组的另一件")))
        release.set()
        opener.result(timeout=60)
        answer = racing.result(timeout=60)
        kept = other.result(timeout=60)
    assert missed == [1]  # the race happened: the group's look-up missed the key
    assert answer.replayed and answer.case.id == elsewhere.case.id
    assert not kept.replayed
    assert _keys(db) == {"race": elsewhere.case.id}
    assert set(_stored(db)) == {elsewhere.case.id, opener.result().case.id, kept.case.id}


def test_under_load_the_registrar_waits_a_moment_to_fill_a_group(
    db: Database, clock: FixedClock
) -> None:
    sizes: list[int] = []
    gate = threading.Event()
    gate.set()
    original = registration.register_cases

    def counted(uow: Any, clk: Any, group: list[Registration]) -> Any:
        sizes.append(len(group))
        gate.wait(30)
        return original(uow, clk, group)

    def submit(text: str) -> Future[Registered]:
        return reg.submit(api(AGENT, body(text=text)))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registration, "register_cases", counted)
        reg = Registrar(db.factory, clock, max_group=8, linger=0.5)
        submit("一件").result(timeout=60)  # alone: goes at once
        gate.clear()
        held = submit("被拦住的一件")  # taken alone, held while two more queue up
        while len(sizes) < 2:
            time.sleep(0.01)
        queued = [submit("第一件"), submit("第二件")]
        gate.set()
        for f in [held, *queued]:
            f.result(timeout=60)
        # The last group had two: the next one waits up to the linger for company.
        first = submit("第三件")
        time.sleep(0.1)
        second = submit("第四件")
        first.result(timeout=60)
        second.result(timeout=60)
    assert sizes == [1, 1, 2, 2]


def test_a_fault_of_the_registrar_itself_answers_and_it_goes_on(
    db: Database, clock: FixedClock
) -> None:
    reg = Registrar(db.factory, clock, max_group=8)
    original = registration.register_cases

    def short(*args: Any) -> Any:
        return original(*args)[:-1]  # a bug: one answer missing

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registration, "register_cases", short)
        with pytest.raises(ValueError):
            reg.submit(api(AGENT, body())).result(timeout=60)
    # The thread is still there for the next one.
    assert reg.submit(api(AGENT, body(text="下一件"))).result(timeout=60).case.id > 0


def test_a_groups_rows_are_stored_as_sqlalchemys_insert_stores_them(
    db: Database, clock: FixedClock
) -> None:
    # On PostgreSQL the registrar writes a table's rows as one JSON parameter; the stored rows
    # must be what SQLAlchemy's INSERT stores: defaults filled (scalar and callable), datetimes
    # in UTC, JSON None as SQL NULL, awkward text exact. (SQLite takes SQLAlchemy's path.)
    now = clock.now()
    text = 'a "quoted" \\ text, é, 😀, \u2028, {"json": [1]}'
    case = {
        "status": "registered",
        "text": text,
        "request_type": "complaint",
        "street": STREET,
        "district": "110101",
        "lat": 39.913456789012345,
        "lon": None,
        "created_at": now,
        "updated_at": now,
        "triage": None,
    }
    proposal = {"x": [1, 2.5, None, True], "y": "é\\n", "z": {"deep": 0.1}}
    sms = {
        "channel": "sms",
        "recipient": "13812345678",
        "template": "registered",
        "next_attempt_at": now,
        "created_at": now,
    }
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    with db.uow() as uow:
        s = uow.session
        bulk = [{**case, "id": 101}, {**case, "id": 102, "triage": proposal}]
        db_bulk.insert_rows(s, Case, bulk)
        s.execute(sa.insert(Case), [{**case, "id": 201}, {**case, "id": 202, "triage": proposal}])
        db_bulk.insert_rows(s, Notification, [{**sms, "case_id": 101}])
        s.execute(sa.insert(Notification), [{**sms, "case_id": 201}])
        uow.commit()
    sa.event.remove(db.engine, "before_cursor_execute", seen)
    through_json = [x for x in statements if "json_populate_recordset" in x]
    assert len(through_json) == (2 if db.engine.dialect.name == "postgresql" else 0)
    with db.engine.connect() as conn:
        cases = {r.id: r._asdict() for r in conn.execute(sa.select(Case.__table__))}
        notes = {r.case_id: r._asdict() for r in conn.execute(sa.select(Notification.__table__))}
    for ours, theirs in ((101, 201), (102, 202)):
        assert {**cases[ours], "id": 0} == {**cases[theirs], "id": 0}
    assert cases[101]["triage"] is None and cases[102]["triage"] == proposal
    assert cases[101]["text"] == text and cases[101]["version"] == 1
    assert {**notes[101], "id": 0, "case_id": 0} == {**notes[201], "id": 0, "case_id": 0}
    assert notes[101]["payload"] == {} and notes[101]["status"] == "pending"


def test_callers_on_an_event_loop_are_answered_and_a_cancelled_one_is_not_stored(
    db: Database, clock: FixedClock
) -> None:
    # `register` (the API's path) waits on its own loop's future, woken once per group.
    reg = Registrar(db.factory, clock, max_group=8)
    release = threading.Event()
    original = registration.register_cases
    wakes: list[int] = []
    original_wake = registrar_module._wake

    def slow(*args: Any) -> Any:
        release.wait(30)
        return original(*args)

    def counted(group: list[Any]) -> None:
        wakes.append(len(group))
        original_wake(group)

    async def scenario() -> tuple[list[Any], list[int]]:
        first = asyncio.ensure_future(reg.register(api(AGENT, body())))
        await asyncio.sleep(0.2)  # taken at once, held in `slow`
        others = [
            asyncio.ensure_future(reg.register(api(AGENT, body(text=f"路灯坏了{i}"))))
            for i in range(3)
        ]
        bad = asyncio.ensure_future(reg.register(api(AGENT, body(street="999999999"))))
        gone = asyncio.ensure_future(reg.register(api(AGENT, body(text="走了"))))
        await asyncio.sleep(0.1)
        gone.cancel()  # its client hung up while it waited
        release.set()
        done = await asyncio.gather(first, *others, bad, gone, return_exceptions=True)
        return done, list(wakes)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registration, "register_cases", slow)
        mp.setattr(registrar_module, "_wake", counted)
        # A loop of its own in a thread of its own: the suite's browser tests leave one running
        # in this thread.
        with ThreadPoolExecutor(1) as pool:
            done, woken = pool.submit(lambda: asyncio.run(scenario())).result(timeout=120)
    answers = [d for d in done if isinstance(d, Registered)]
    assert len(answers) == 4 and isinstance(done[4], InvalidInput)
    assert isinstance(done[5], asyncio.CancelledError)
    assert set(_stored(db)) == {a.case.id for a in answers}
    # The held first alone, then the four that waited together: one wake-up each.
    assert woken == [1, 4]
