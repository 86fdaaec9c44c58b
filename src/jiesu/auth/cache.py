"""A few seconds' memory of valid bearer tokens, per server process, so that an API request
does not spend a pooled connection and three database round trips (ping, select, rollback) on
who is asking. Only tokens found valid are remembered; an unknown token always asks the
database, so guessing fills nothing.

A remembered token can go bad in three ways, and each is seen:
- it expires: its own expires_at is checked against the clock on every use;
- it is revoked, or its user deactivated or given another role or unit, in this process (the
  API's /auth/revoke, the admin page, `jiesu users revoke-tokens` run in-process): any flush
  that touches an app_user or api_token row forgets every token at once, and again at commit;
- the same happens in another process (another server worker, the CLI): that process cannot
  tell this one, so the token keeps working here for at most TTL_SECONDS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from jiesu.auth.actor import Actor
from jiesu.auth.models import ApiToken, User

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000
_CHANGED = "jiesu.auth.changed"
_TABLES = frozenset({User.__tablename__, ApiToken.__tablename__})


@dataclass(frozen=True)
class Remembered:
    actor: Actor
    expires_at: datetime  # the token's own expiry
    fetched: float  # monotonic seconds when the database said it was valid


class TokenCache:
    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, Remembered] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before asking the database; `put` refuses the answer if a change came since."""
        return self._generation

    def get(self, digest: str) -> Remembered | None:
        hit = self._entries.get(digest)
        if hit is None or self._clock() - hit.fetched >= self.ttl:
            return None
        return hit

    def put(self, digest: str, actor: Actor, expires_at: datetime, generation: int) -> None:
        with self._lock:
            # A revocation committed while this answer was read makes the answer stale.
            if generation != self._generation:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = Remembered(actor, expires_at, self._clock())

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


TOKENS = TokenCache()


@event.listens_for(Session, "after_flush")
def _auth_rows_flushed(session: Session, _ctx: UOWTransaction) -> None:
    # In after_flush the session's dirty and deleted sets still hold what was just written.
    if any(isinstance(o, (User, ApiToken)) for o in chain(session.dirty, session.deleted)):
        session.info[_CHANGED] = True
        TOKENS.clear()


@event.listens_for(Session, "do_orm_execute")
def _auth_rows_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and _touches_auth(state.statement):
        state.session.info[_CHANGED] = True
        TOKENS.clear()


def _touches_auth(statement: Any) -> bool:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None) in _TABLES


@event.listens_for(Session, "after_commit")
def _auth_rows_committed(session: Session) -> None:
    # Again at commit: a request that read the old rows between flush and commit may not
    # keep them (its generation is now stale).
    if session.info.pop(_CHANGED, False):
        TOKENS.clear()


@event.listens_for(Session, "after_rollback")
def _auth_rows_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
