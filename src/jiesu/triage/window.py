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
up to `FULL_EVERY` seconds behind another worker costs at most a missed or stale suggestion,
never a wrong write. A whole read that finds nothing changed keeps the window as it is (its
gram index and prepared candidates are not rebuilt). Windows are kept per engine, so two
databases in one process never mix.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, Engine, Select, bindparam, event, or_, select, true
from sqlalchemy.orm import Session, UOWTransaction

from jiesu.cases.models import Case
from jiesu.cases.workflow import TERMINAL, values
from jiesu.memo import engine_of
from jiesu.triage.duplicates import CandidateSet, DupCandidate, GramIndex, cached_profile

DUP_WINDOW = timedelta(days=30)
DUP_LIMIT = 300
# What a whole read alone brings: another process's status changes and a case committed out of
# id order (new cases come in between, by added_since or catch_up).
FULL_EVERY = 5.0
# A window's gram index is brought up to date once this many of its cases are not in it (those
# are compared one by one meanwhile), or this many of its entries have left the window.
INDEX_SLACK = 8
# catch_up reads at most this many new cases at a time (beyond, windows are read whole). Kept
# small for PostgreSQL's generic plan (psycopg prepares a statement after 5 runs): it guesses a
# third of the table is above `max_id`, and only a LIMIT well below that keeps the plan on the
# primary key backwards; at 2,000 a table of 8,000 cases was scanned whole on every group.
FEED_LIMIT = DUP_LIMIT
LEFT_OUT = values(TERMINAL)  # a terminal case takes no duplicate
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


def belongs(place: Place, street: str | None, district: str | None) -> bool:
    kind, code = place
    if kind == "street":
        return street == code or street is None
    if kind == "district":
        return district == code
    return True


def _parts(place: Place) -> list[ColumnElement[bool]]:
    """The place's cases as one condition per index-friendly part: a street's own cases and
    those with no street are two, read each on (street, created_at)."""
    kind, code = place
    if kind == "street":
        return [Case.street == code, Case.street.is_(None)]
    if kind == "district":
        return [Case.district == code]
    return [true()]


_Query = Select[int, str, str | None, datetime, str]


def _select(*where: ColumnElement[bool]) -> _Query:
    return select(Case.id, Case.text, Case.street, Case.created_at, Case.status).where(
        Case.status.not_in(LEFT_OUT), *where
    )


@lru_cache(maxsize=4096)
def added_since(place: Place) -> _Query:
    """The place's cases with ids above the parameter `max_id`, newest first, at most
    DUP_LIMIT. Built once per place (building a statement costs more than running it)."""
    # Newest first with a LIMIT: more than DUP_LIMIT new cases could not all stay in the
    # window anyway, and the LIMIT keeps PostgreSQL's generic plan (psycopg prepares a
    # statement after 5 runs) on the primary key backwards; without it that plan was a
    # sequential scan of the whole table on every proposal.
    stmt = _select(or_(*_parts(place)), Case.id > bindparam("max_id"))
    return stmt.order_by(Case.id.desc()).limit(DUP_LIMIT)


def _candidate(
    row: tuple[int, str, str | None, datetime, str], known: DupCandidate | None
) -> DupCandidate:
    """A window entry with its grams, computed once per case (the window of 300 is compared
    with every new request, and a process holds many places' windows)."""
    case_id, text, street, created_at, status = row
    grams = known.profile if known is not None and known.text == text else None
    return DupCandidate(case_id, text, street, created_at, status, grams or cached_profile(text))


def _newest(c: DupCandidate) -> tuple[datetime, int]:
    return (c.created_at, c.case_id)


def _latest(session: Session, place: Place, known: dict[int, DupCandidate]) -> list[DupCandidate]:
    """The place's DUP_LIMIT most recent cases, oldest first; each part is read backwards on
    its own index, so a whole read costs ~300 rows however many cases the place has had."""
    found: list[DupCandidate] = []
    for part in _parts(place):
        stmt = _select(part).order_by(Case.created_at.desc(), Case.id.desc()).limit(DUP_LIMIT)
        found += (_candidate(r, known.get(r[0])) for r in session.execute(stmt))
    found.sort(key=_newest)
    return found[-DUP_LIMIT:]


@dataclass
class _Window:
    read_at: float  # monotonic, last whole read
    max_id: int
    cases: dict[int, DupCandidate]  # oldest first, by (created_at, id)
    index: GramIndex | None = None
    # What proposals are handed (the recent cases, most recent first, ready to compare) and,
    # since it was made, the cases added and how many of the oldest left; `ready` is None when
    # it must be made anew (a case changed or left out of turn).
    ready: CandidateSet | None = None
    ready_old: int = 0
    added: list[DupCandidate] = field(default_factory=list)
    dropped: int = 0

    def changed(self) -> None:
        self.ready = None

    def prepared(self, since: datetime) -> CandidateSet:
        """The cases created at or after `since`, most recent first, ready to compare."""
        old = 0
        for c in self.cases.values():  # oldest first: stops at the first recent one
            if c.created_at >= since:
                break
            old += 1
        ready = self.ready
        if ready is not None and old == 0 == self.ready_old and self.dropped <= len(ready):
            if self.added or self.dropped:
                # The usual change: a few new cases, as many old ones gone.
                ready = ready.grown(self.added[::-1], len(ready) - self.dropped)
        else:
            recent = list(self.cases.values())[old:]
            recent.reverse()
            ready = CandidateSet(recent, self.index)
        self.added, self.dropped, self.ready_old = [], 0, old
        self.ready = self._indexed(ready)
        return self.ready

    def _indexed(self, ready: CandidateSet) -> CandidateSet:
        """`ready`, compared through an index brought up to date if too many of its cases
        are not in it or too many of the index's have left."""
        index = self.index
        if index is not None:
            gone = len(index.ids) - (len(ready) - len(ready.rest))
            if len(ready.rest) <= INDEX_SLACK and gone <= INDEX_SLACK:
                return ready
        self.index = GramIndex(ready.ids.tolist(), ready.profiles, base=index)
        ready.use(self.index)
        return ready

    def add(self, new: list[DupCandidate]) -> None:
        """Cases read since; the oldest beyond DUP_LIMIT leave."""
        new = sorted((c for c in new if c.case_id not in self.cases), key=_newest)
        if not new:
            return
        last = next(reversed(self.cases.values()), None)
        for c in new:
            self.cases[c.case_id] = c
        self.max_id = max(self.max_id, *(c.case_id for c in new))
        self.added += new
        if last is not None and _newest(new[0]) < _newest(last):
            # Rare: a case created before one already here (clocks of two processes).
            self.cases = {c.case_id: c for c in sorted(self.cases.values(), key=_newest)}
            self.changed()
        while len(self.cases) > DUP_LIMIT:
            del self.cases[next(iter(self.cases))]
            self.dropped += 1


@lru_cache(maxsize=4)
def _feed(limit: int) -> Select[int, str, str | None, datetime, str, str | None]:
    """The cases added since the feed last looked, every place at once, newest first."""
    return (
        select(Case.id, Case.text, Case.street, Case.created_at, Case.status, Case.district)
        .where(Case.status.not_in(LEFT_OUT), Case.id > bindparam("max_id"))
        .order_by(Case.id.desc())
        .limit(limit)
    )


class RecentCases:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._engines: weakref.WeakKeyDictionary[Engine, dict[Place, _Window]] = (
            weakref.WeakKeyDictionary()
        )
        # Per database, the highest case id catch_up has handed to the windows.
        self._fed: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()

    def catch_up(self, session: Session) -> None:
        """Bring every window of this database up to date with the cases added since the last
        catch-up, in one query for all places (the registrar calls it once per group, then
        asks for candidates with `caught_up=True`, so a group of N costs one query, not N)."""
        engine = engine_of(session)
        with self._lock:
            windows = self._engines.get(engine)
            if not windows:
                return
            since = self._fed.get(engine)
            if since is None:
                since = min(w.max_id for w in windows.values())
        limit = FEED_LIMIT
        rows = session.connection().execute(_feed(limit), {"max_id": since}).all()
        if not rows:
            return
        by_window: dict[Place, list[DupCandidate]] = {}
        with self._lock:
            if len(rows) == limit:
                # More came than one look takes: every window is read whole at its next use.
                for window in windows.values():
                    window.read_at = -FULL_EVERY
            for row in reversed(rows):  # oldest first
                case_id, text, street, created_at, status, district = row
                for place in _places_of(windows, street, district):
                    window = windows[place]
                    if case_id > window.max_id:
                        by_window.setdefault(place, []).append(
                            _candidate((case_id, text, street, created_at, status), None)
                        )
            for place, added in by_window.items():
                windows[place].add(added)
            self._fed[engine] = max(since, rows[0][0])

    def candidates(
        self,
        session: Session,
        street: str | None,
        district: str | None,
        now: datetime,
        *,
        caught_up: bool = False,
    ) -> CandidateSet:
        """The place's cases of the last 30 days (to `now`), most recent first, at most 300,
        with the window's gram index (triage/duplicates.py). `caught_up`: the caller has just
        run catch_up, so the cases added since need not be asked for this place."""
        place = place_of(street, district)
        engine = engine_of(session)
        with self._lock:
            window = self._engines.setdefault(engine, {}).get(place)
        if window is not None and caught_up and self._clock() - window.read_at < FULL_EVERY:
            with self._lock:
                return window.prepared(now - DUP_WINDOW)
        if window is None or self._clock() - window.read_at >= FULL_EVERY:
            read_at = self._clock()
            cases = _latest(session, place, window.cases if window is not None else {})
            max_id = max((c.case_id for c in cases), default=0)
            if window is not None and _same(window, cases):
                # Nothing changed: the window, its index and prepared set stay as they are.
                with self._lock:
                    window.read_at = read_at
                    window.max_id = max(window.max_id, max_id)
            else:
                kept = window.index if window is not None else None
                window = _Window(read_at, max_id, {c.case_id: c for c in cases}, kept)
                with self._lock:
                    self._engines.setdefault(engine, {})[place] = window
        else:
            # On the session's connection, as Core: the ORM's per-statement work is not needed
            # for plain rows.
            rows = session.connection().execute(added_since(place), {"max_id": window.max_id})
            added = [_candidate(r, None) for r in rows]
            if added:
                with self._lock:
                    window.add(added)
        with self._lock:
            return window.prepared(now - DUP_WINDOW)

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
                    if status in LEFT_OUT or not belongs(place, street, district):
                        del window.cases[case_id]
                    else:  # same place in the order: created_at does not change
                        window.cases[case_id] = old._replace(status=status, street_code=street)
                    window.changed()


def _same(window: _Window, cases: list[DupCandidate]) -> bool:
    """The window holds exactly these cases, in this order, with these statuses, streets and
    texts (a case's profile is the one it holds only while its text is unchanged)."""
    if len(cases) != len(window.cases):
        return False
    for new, old in zip(cases, window.cases.values(), strict=True):
        if new.case_id != old.case_id or new.status != old.status or new.profile is not old.profile:
            return False
        if new.street_code != old.street_code or new.created_at != old.created_at:
            return False
    return True


def _places_of(
    windows: dict[Place, _Window], street: str | None, district: str | None
) -> list[Place]:
    """The windows (of those kept) a case of this street and district belongs to."""
    if street is None:
        found = [p for p in windows if p[0] == "street"]
    else:
        found = [("street", street)] if ("street", street) in windows else []
    if district is not None and ("district", district) in windows:
        found.append(("district", district))
    if ("all", "") in windows:
        found.append(("all", ""))
    return found


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
