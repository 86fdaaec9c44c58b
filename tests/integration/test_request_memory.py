"""What a server process remembers between requests — the routing rules (jiesu/memo.py) and each
place's recent cases for the duplicate finder (triage/window.py) — is never older than their
docstrings say: a change committed in this process is seen by the next request, a change made
elsewhere within the stated seconds, and two databases never mix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from jiesu.cases.models import Case
from jiesu.clock import FixedClock
from jiesu.db import make_engine, make_session_factory
from jiesu.memo import TableMemo
from jiesu.routing.models import RoutingRule
from jiesu.routing.service import load_rules
from jiesu.triage import window
from jiesu.triage.duplicates import profile
from jiesu.triage.window import FULL_EVERY, RECENT, RecentCases
from tests.conftest import Database
from tests.helpers import AGENT, DISPATCHER, DISTRICT, OTHER_STREET, STREET, do, register


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _window(db: Database, clock: FixedClock, recent: RecentCases = RECENT) -> dict[int, str]:
    with db.uow() as uow:
        found = recent.candidates(uow.session, STREET, DISTRICT, clock.now())
    # Each candidate carries its grams, computed once (what the duplicate finder compares).
    assert all(c.profile == profile(c.text) for c in found)
    return {c.case_id: c.status for c in found}


def test_window_follows_registrations_and_status_changes_made_here(
    db: Database, clock: FixedClock
) -> None:
    first = register(db, clock)
    assert _window(db, clock) == {first.id: "registered"}
    # Registered after the window was read: found by the next proposal (ids above the highest).
    second = register(db, clock, text="东华门街道某小区楼道堆物，消防通道被堵死")
    elsewhere = register(db, clock, street=OTHER_STREET)
    nowhere = register(db, clock, street=None, address="")  # no street: in every street's window
    assert _window(db, clock) == {
        first.id: "registered",
        second.id: "registered",
        nowhere.id: "registered",
    }
    # A whole read (a new process) finds the same: the street's cases and those with none.
    assert _window(db, clock, RecentCases()) == _window(db, clock)
    do(db, clock, AGENT, nowhere.id, "merge", into=first.id)
    do(db, clock, DISPATCHER, first.id, "dispatch", lead_unit=STREET)
    do(db, clock, AGENT, second.id, "merge", into=first.id)
    # Both committed here: the dispatch shows at once, the merged case is no longer offered.
    assert _window(db, clock) == {first.id: "dispatched"}
    assert elsewhere.id not in _window(db, clock)


def test_window_keeps_to_thirty_days_and_three_hundred(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = register(db, clock)
    clock.advance(timedelta(days=31))
    new = register(db, clock)
    assert _window(db, clock) == {new.id: "registered"}
    with db.uow() as uow:
        then = old.created_at + timedelta(days=29)
        found = RECENT.candidates(uow.session, STREET, None, then)
    assert [c.case_id for c in found] == [new.id, old.id]  # most recent first
    monkeypatch.setattr(window, "DUP_LIMIT", 3)
    more = [register(db, clock).id for _ in range(3)]
    assert list(_window(db, clock)) == more[::-1]


def test_window_sees_other_processes_changes_within_its_period(
    db: Database, clock: FixedClock
) -> None:
    ticks = Ticks()
    recent = RecentCases(clock=ticks)
    case = register(db, clock)
    assert _window(db, clock, recent) == {case.id: "registered"}
    # Another process merges it (a plain UPDATE: no session of this process sees it).
    with db.engine.begin() as conn:
        conn.execute(sa.update(Case).where(Case.id == case.id).values(status="merged"))
    ticks.now += FULL_EVERY - 0.5
    assert _window(db, clock, recent) == {case.id: "registered"}  # not yet
    ticks.now += 0.5
    assert _window(db, clock, recent) == {}


def test_a_whole_read_that_finds_nothing_new_keeps_the_window(
    db: Database, clock: FixedClock
) -> None:
    ticks = Ticks()
    recent = RecentCases(clock=ticks)
    first = register(db, clock)
    second = register(db, clock, text="东华门街道某小区楼道堆物，消防通道被堵死")

    def held() -> object:
        with db.uow() as uow:
            ready = recent.candidates(uow.session, STREET, DISTRICT, clock.now())
        assert {c.case_id for c in ready} == {first.id, second.id}
        return ready

    before = held()
    ticks.now += FULL_EVERY  # a whole read, nothing changed: the same prepared set
    assert held() is before
    with db.engine.begin() as conn:  # another process dispatches one
        conn.execute(sa.update(Case).where(Case.id == first.id).values(status="dispatched"))
    ticks.now += FULL_EVERY
    after = held()
    assert after is not before
    assert {c.case_id: c.status for c in after}[first.id] == "dispatched"


def _case_reads(db: Database) -> list[str]:
    """The SELECTs on case_record issued from now on (a list the caller reads later)."""
    seen: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "case_record" in statement:
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    return seen


def test_one_catch_up_brings_every_window_up_to_date(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = Ticks()
    recent = RecentCases(clock=ticks)
    first = register(db, clock)
    other = register(db, clock, street=OTHER_STREET)

    def windows(caught_up: bool) -> tuple[set[int], set[int]]:
        with db.uow() as uow:
            if caught_up:
                recent.catch_up(uow.session)
            mine = recent.candidates(
                uow.session, STREET, DISTRICT, clock.now(), caught_up=caught_up
            )
            theirs = recent.candidates(
                uow.session, OTHER_STREET, DISTRICT, clock.now(), caught_up=caught_up
            )
        return {c.case_id for c in mine}, {c.case_id for c in theirs}

    assert windows(False) == ({first.id}, {other.id})
    # Registered by "another process" (this process's windows learn of them only by reading).
    mine = register(db, clock).id
    theirs = register(db, clock, street=OTHER_STREET).id
    nowhere = register(db, clock, street=None, address="").id  # in every street's window
    reads = _case_reads(db)
    assert windows(True) == ({first.id, mine, nowhere}, {other.id, theirs, nowhere})
    assert len(reads) == 1  # one query for both places, none per place
    # More new cases than one look takes: the windows are read whole at their next use.
    monkeypatch.setattr(window, "FEED_LIMIT", 2)
    more = [register(db, clock).id for _ in range(3)]
    got_mine, _ = windows(True)
    assert set(more) <= got_mine
    # And the window a candidate set comes from answers as a fresh read of the place would.
    with db.uow() as uow:
        fresh = RecentCases().candidates(uow.session, STREET, DISTRICT, clock.now())
    assert got_mine == {c.case_id for c in fresh}


def test_routing_rules_added_here_route_at_once(db: Database, clock: FixedClock) -> None:
    with db.uow() as uow:
        before = {r.id for r in load_rules(uow.session, clock.now())}
        rule = RoutingRule(
            category_prefix="01",
            area_code=DISTRICT,
            target="D001",
            co_targets="",
            note="test",
            effective_from=clock.now() - timedelta(minutes=1),
        )
        uow.session.add(rule)
        uow.commit()
    with db.uow() as uow:
        after = {r.id for r in load_rules(uow.session, clock.now())}
        # Effective dates are applied per call, from the remembered rows.
        earlier = {r.id for r in load_rules(uow.session, clock.now() - timedelta(hours=1))}
    # The seeded rules are shared by every PostgreSQL test (only operational tables are
    # truncated): take the added one away again, through the ORM, as the admin page would.
    with db.uow() as uow:
        uow.session.delete(uow.session.get(RoutingRule, rule.id))
        uow.commit()
    with db.uow() as uow:
        assert {r.id for r in load_rules(uow.session, clock.now())} == before
    assert after == before | {rule.id}
    assert earlier == before


def test_memo_expires_keeps_databases_apart_and_forgets_on_a_change(tmp_path: Path) -> None:
    ticks = Ticks()
    memo = TableMemo(
        lambda s: s.scalar(sa.select(sa.func.count()).select_from(RoutingRule)),
        watched=(RoutingRule.__tablename__,),
        clock=ticks,
    )
    engines = [make_engine(f"sqlite:///{tmp_path / f'{n}.db'}") for n in ("a", "b")]
    try:
        for engine in engines:
            RoutingRule.__table__.create(engine)
        a, b = (make_session_factory(e) for e in engines)
        rule = {"category_prefix": "", "area_code": "", "target": "@street", "co_targets": ""}
        with engines[1].begin() as conn:
            conn.execute(sa.insert(RoutingRule).values(effective_from=sa.func.now(), **rule))
        with a() as s, b() as t:
            assert (memo.get(s), memo.get(t)) == (0, 1)
        # Written without this process's ORM (another process): seen after the TTL.
        with engines[0].begin() as conn:
            conn.execute(sa.insert(RoutingRule).values(effective_from=sa.func.now(), **rule))
        with a() as s:
            assert memo.get(s) == 0
            ticks.now += memo.ttl
            assert memo.get(s) == 1
        # Written through a session of this process: forgotten at once.
        with a() as s:
            s.execute(sa.delete(RoutingRule))
            s.commit()
            assert memo.get(s) == 0
    finally:
        for engine in engines:
            engine.dispose()
