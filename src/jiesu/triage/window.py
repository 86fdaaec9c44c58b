"""The recent cases a new request is compared with (duplicate candidates), kept per process.

Every registration's triage compares the new text with the 300 most recent cases of its place
(DESIGN §5: open or recently closed, merged and finished ones left out). Reading those 300 rows
on every registration was a fifth of a registration's CPU; here each place's window is read
whole once per `FULL_EVERY` seconds, and in between only the cases added since (`id >` the
highest seen: one indexed range scan that returns a handful of rows).

How fresh a window is:
- cases registered by any process are seen by the next proposal here, except one whose id is
  below an id already seen (two transactions committing out of id order): it joins at the next
  whole read, at most `FULL_EVERY` seconds later;
- a status change committed by this process (merge, finish, dispatch …) is applied at its
  commit; one committed by another process shows at the next whole read.
A proposal is advice to the agent, and a merge re-checks the case it merges with, so a window
a few seconds behind another worker costs at most a missed or stale suggestion, never a wrong
write. Windows are kept per engine, so two databases in one process never mix.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, Row, Select, event, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from jiesu.cases.models import Case
from jiesu.memo import engine_of
from jiesu.triage.duplicates import DupCandidate, cached_profile

DUP_WINDOW = timedelta(days=30)
DUP_LIMIT = 300
FULL_EVERY = 5.0
LEFT_OUT = ("merged", "terminated", "answered")
_CHANGES = "jiesu.window.changes"

# A window's place: ("street", code) takes the street's cases and those with no street;
# ("district", code) a district's; ("all", "") every case (a request with no place).
Place = tuple[str, str]
_Change = tuple[int, str, str | None, str | None]  # case id, status, street, district


def place_of(street: str | None, district: str | None) -> Place:
    if street:
        return ("street", street)
    if district:
        return ("district", district)
    return ("all", "")


def _belongs(place: Place, street: str | None, district: str | None) -> bool:
    kind, code = place
    if kind == "street":
        return street == code or street is None
    if kind == "district":
        return district == code
    return True


_Query = Select[int, str, str | None, datetime, str]


def _where(stmt: _Query, place: Place) -> _Query:
    kind, code = place
    stmt = stmt.where(Case.status.not_in(LEFT_OUT))
    if kind == "street":
        return stmt.where(or_(Case.street == code, Case.street.is_(None)))
    if kind == "district":
        return stmt.where(Case.district == code)
    return stmt


def added_since(place: Place, max_id: int) -> _Query:
    """The place's cases with ids above `max_id`, newest first, at most DUP_LIMIT."""
    base = select(Case.id, Case.text, Case.street, Case.created_at, Case.status)
    stmt = _where(base, place).where(Case.id > max_id)
    return stmt.order_by(Case.id.desc()).limit(DUP_LIMIT)


def _latest(
    session: Session, base: _Query, place: Place
) -> list[Row[int, str, str | None, datetime, str]]:
    """The place's DUP_LIMIT most recent cases, newest first. A street's window also takes
    the cases with no street; each part is read on its own index, (street, created_at)
    backwards, so a whole read costs ~300 rows however many cases the street has had."""
    kind, code = place
    if kind == "street":
        kept = base.where(Case.status.not_in(LEFT_OUT))
        queries = [kept.where(Case.street == code), kept.where(Case.street.is_(None))]
    else:
        queries = [_where(base, place)]
    rows: list[Row[int, str, str | None, datetime, str]] = []
    for stmt in queries:
        newest = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(DUP_LIMIT)
        rows += session.execute(newest).all()
    if len(queries) > 1:
        rows.sort(key=lambda r: (r[3], r[0]), reverse=True)
    return rows[:DUP_LIMIT]


def _candidate(
    row: Row[int, str, str | None, datetime, str], known: DupCandidate | None
) -> DupCandidate:
    """A window entry with its grams, computed once per case (the window of 300 is compared
    with every new request, and a process holds many places' windows)."""
    case_id, text, street, created_at, status = row
    grams = known.profile if known is not None and known.text == text else None
    return DupCandidate(case_id, text, street, created_at, status, grams or cached_profile(text))


def _newest(c: DupCandidate) -> tuple[datetime, int]:
    return (c.created_at, c.case_id)


@dataclass
class _Window:
    read_at: float  # monotonic, last whole read
    max_id: int
    cases: dict[int, DupCandidate] = field(default_factory=dict)
    # The cases newest first, kept between changes (None: to be sorted again).
    ordered: list[DupCandidate] | None = None

    def add(self, new: list[DupCandidate]) -> None:
        """Cases read since (ascending ids); the oldest beyond DUP_LIMIT leave."""
        for c in new:
            self.cases[c.case_id] = c
        self.max_id = max(self.max_id, new[-1].case_id)
        ordered = self.ordered
        newest = sorted(new, key=_newest, reverse=True)
        if ordered is not None and (not ordered or _newest(newest[-1]) > _newest(ordered[0])):
            # The usual case: all newer than what was there, so they go in front.
            self.ordered = newest + ordered
        else:
            self.ordered = None
        if len(self.cases) > DUP_LIMIT:
            keep = self.newest_first()[:DUP_LIMIT]
            self.cases = {c.case_id: c for c in keep}
            self.ordered = keep

    def newest_first(self) -> list[DupCandidate]:
        if self.ordered is None:
            self.ordered = sorted(self.cases.values(), key=_newest, reverse=True)
        return self.ordered


class RecentCases:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._engines: weakref.WeakKeyDictionary[Engine, dict[Place, _Window]] = (
            weakref.WeakKeyDictionary()
        )

    def candidates(
        self, session: Session, street: str | None, district: str | None, now: datetime
    ) -> list[DupCandidate]:
        """The place's cases of the last 30 days (to `now`), most recent first, at most 300."""
        place = place_of(street, district)
        engine = engine_of(session)
        base = select(Case.id, Case.text, Case.street, Case.created_at, Case.status)
        with self._lock:
            window = self._engines.setdefault(engine, {}).get(place)
        if window is None or self._clock() - window.read_at >= FULL_EVERY:
            read_at = self._clock()
            known = window.cases if window is not None else {}
            rows = [_candidate(r, known.get(r[0])) for r in _latest(session, base, place)]
            fresh = _Window(read_at, max((c.case_id for c in rows), default=0))
            fresh.cases = {c.case_id: c for c in reversed(rows)}
            fresh.ordered = rows  # the query's order: newest first
            with self._lock:
                self._engines.setdefault(engine, {})[place] = fresh
            window = fresh
        else:
            # Newest first with a LIMIT: more than DUP_LIMIT new cases could not all stay in
            # the window anyway, and the LIMIT keeps PostgreSQL's generic plan (psycopg
            # prepares a statement after 5 runs) on the primary key backwards; without it that
            # plan was a sequential scan of the whole table on every proposal.
            stmt = added_since(place, window.max_id)
            added = [_candidate(r, None) for r in session.execute(stmt)][::-1]
            if added:
                with self._lock:
                    window.add(added)
        since = now - DUP_WINDOW
        with self._lock:
            ordered = window.newest_first()
        return [c for c in ordered if c.created_at >= since][:DUP_LIMIT]

    def committed(self, engine: Engine, changed: Iterable[_Change]) -> None:
        """Apply this process's committed status (and place) changes to every window."""
        with self._lock:
            windows = self._engines.get(engine)
            if not windows:
                return
            for case_id, status, street, district in changed:
                for place, window in windows.items():
                    old = window.cases.get(case_id)
                    if old is None:
                        continue
                    if status in LEFT_OUT or not _belongs(place, street, district):
                        del window.cases[case_id]
                    else:
                        window.cases[case_id] = old._replace(status=status, street_code=street)
                    window.ordered = None


RECENT = RecentCases()


@event.listens_for(Session, "after_flush")
def _cases_flushed(session: Session, _ctx: UOWTransaction) -> None:
    # Read now: at commit the objects are expired, and reading them would query again.
    changed = [(o.id, o.status, o.street, o.district) for o in session.dirty if isinstance(o, Case)]
    if changed:
        session.info.setdefault(_CHANGES, []).extend(changed)


@event.listens_for(Session, "after_commit")
def _cases_committed(session: Session) -> None:
    changed = session.info.pop(_CHANGES, None)
    if changed:
        RECENT.committed(engine_of(session), changed)


@event.listens_for(Session, "after_rollback")
def _cases_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGES, None)
