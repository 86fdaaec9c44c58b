"""Limits on the public pages: the citizen tracker's guesses and citizens' submissions.

The tracker answers "case number + last 4 phone digits": 10,000 combinations per case, so
without a limit one script could read anyone's case; and one address must not fill the
hotline's queue with cases. Each limit allows `limit` tries per key (a client address, a case
number) in a fixed window. The counts live in the database (table rate_counter), so every
server worker and every host counts the same tries, and a restart forgives nothing.

A try first takes its slot: one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, atomic on
PostgreSQL and SQLite. Only a try whose slot is within the limit goes on, so a burst of
concurrent tries never checks more than the limit; a try that must not count (a right guess)
gives its slot back. Windows are aligned to whole multiples of their length: a key may spend
its limit at the end of one window and again at the start of the next, never more in a window.
The clock is the app's injected clock, so tests move time themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiesu.web.models import RateCounter

KEY_MAX = 64  # the column's length; an IPv6 address has at most 45 characters


@dataclass(frozen=True)
class Limit:
    scope: str  # which limit: "track-ip", "track-case", "submit-ip"
    limit: int
    window: timedelta

    def window_start(self, now: datetime) -> datetime:
        length = max(1, int(self.window.total_seconds()))
        return datetime.fromtimestamp(int(now.timestamp()) // length * length, UTC)


def take(session: Session, limit: Limit, key: str, now: datetime) -> int:
    """Counts one try of `key`: 0 when it is within the limit, else the seconds until the
    window ends. The caller commits soon: on PostgreSQL the counter row, on SQLite the whole
    database, stays locked for writing until then."""
    start = limit.window_start(now)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = insert(RateCounter).values(
        scope=limit.scope,
        key=key[:KEY_MAX],
        window_start=start,
        hits=1,
        expires_at=start + limit.window,
    )
    stmt = values.on_conflict_do_update(
        index_elements=["scope", "key", "window_start"],
        set_={"hits": RateCounter.hits + 1},
    ).returning(RateCounter.hits)
    hits = int(session.execute(stmt).scalar_one())
    if hits == 1:
        # The first try of a key in a window (so at most once per key and window): clear the
        # rows of windows that are over, found by their index; nothing else ever grows the table.
        session.execute(delete(RateCounter).where(RateCounter.expires_at <= now))
    if hits <= limit.limit:
        return 0
    return max(1, math.ceil((start + limit.window - now).total_seconds()))


def give_back(session: Session, limit: Limit, key: str, now: datetime) -> None:
    """Returns the slot that `take` gave this try (with the same `now`): it does not count."""
    session.execute(
        update(RateCounter)
        .where(
            RateCounter.scope == limit.scope,
            RateCounter.key == key[:KEY_MAX],
            RateCounter.window_start == limit.window_start(now),
            RateCounter.hits > 0,
        )
        .values(hits=RateCounter.hits - 1)
    )
