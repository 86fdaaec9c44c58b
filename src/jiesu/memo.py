"""A few seconds' memory, per server process and per database, of what every request reads and
almost nothing writes (the routing rules): one read per TTL instead of one per request.

A remembered value goes stale in two ways, and each is seen:
- this process commits a change to one of the watched tables (any ORM flush that adds, edits
  or deletes such a row, or an ORM bulk UPDATE/DELETE of it): every memo watching it forgets
  at once, and again at commit, so no request reads the old value after the commit;
- another process (another server worker, the CLI, the admin page served by another worker)
  changes it: this process cannot be told, and keeps the old value for at most `ttl` seconds.

Values are kept per engine (a weak reference: a disposed test database takes its memory with
it), so two databases in one process never see each other's rows.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

T = TypeVar("T")
TTL_SECONDS = 5.0
_CHANGED = "jiesu.memo.changed"


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


class TableMemo(Generic[T]):
    """`get(session)` answers `load(session)`, remembered for `ttl` seconds per engine."""

    def __init__(
        self,
        load: Callable[[Session], T],
        watched: tuple[str, ...],
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.watched = frozenset(watched)
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._values: weakref.WeakKeyDictionary[Engine, tuple[float, T]] = (
            weakref.WeakKeyDictionary()
        )
        self._generation = 0
        _MEMOS.append(self)

    def get(self, session: Session) -> T:
        engine = engine_of(session)
        hit = self._values.get(engine)
        if hit is not None and self._clock() - hit[0] < self.ttl:
            return hit[1]
        generation, fetched = self._generation, self._clock()
        value = self._load(session)
        with self._lock:
            # A change committed while this was read makes the answer stale: used once, not kept.
            if generation == self._generation:
                self._values[engine] = (fetched, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._values.clear()


_MEMOS: list[TableMemo[Any]] = []


def _forget(tables: set[str]) -> bool:
    hit = False
    for memo in _MEMOS:
        if memo.watched & tables:
            memo.forget()
            hit = True
    return hit


@event.listens_for(Session, "after_flush")
def _rows_flushed(session: Session, _ctx: UOWTransaction) -> None:
    tables = {
        getattr(o, "__tablename__", "") for o in chain(session.new, session.dirty, session.deleted)
    }
    if _forget(tables):
        session.info.setdefault(_CHANGED, set()).update(tables)


@event.listens_for(Session, "do_orm_execute")
def _rows_bulk(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table and _forget({table}):
            state.session.info.setdefault(_CHANGED, set()).add(table)


@event.listens_for(Session, "after_commit")
def _rows_committed(session: Session) -> None:
    tables = session.info.pop(_CHANGED, None)
    if tables:
        _forget(tables)


@event.listens_for(Session, "after_rollback")
def _rows_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
