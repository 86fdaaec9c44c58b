"""Login throttling: after too many failures a username, and separately a client address, is
locked for a while. Counted from login_attempt rows, so the limit holds across server workers
and restarts, and every try is on record. Every way in with a password (the API's token, the
consoles' login page) goes through `check_login`.

Tries of one username, or from one address, are taken one at a time (`_one_at_a_time`): the
count is read only once the tries before have written theirs, so a burst of concurrent guesses
checks at most the limit against the password, not every guess that read the count first.

Per username: slows guessing one person's password. Per client: slows one address trying many
usernames (password spraying); its limit is higher because a call centre's agents may share
one NAT address.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from jiesu.auth.models import LoginAttempt, User
from jiesu.auth.service import authenticate
from jiesu.errors import DomainError
from jiesu.settings import Settings


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    max_failures_per_client: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_failures=settings.login_max_failures,
        max_failures_per_client=settings.login_max_failures_per_client,
        window=timedelta(minutes=settings.login_window_minutes),
        lockout=timedelta(minutes=settings.login_lockout_minutes),
    )


def _one_at_a_time(session: Session, record: LoginAttempt) -> None:
    """Waits until no other transaction is trying this username or this client, and holds
    that until the caller's commit. PostgreSQL: transaction-level advisory locks, taken in one
    order so two tries cannot wait for each other. SQLite: writing the try's row takes the
    database's one write lock, which serialises every writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        keys = sorted(
            int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big", signed=True)
            for k in (f"login-user:{record.username}", f"login-client:{record.client}")
        )
        for key in keys:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    session.add(record)
    session.flush()


def _locked_until(
    session: Session,
    column: InstrumentedAttribute[str],
    value: str,
    limit: int,
    since: datetime,
    lockout: timedelta,
) -> datetime | None:
    count, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            column == value,
            LoginAttempt.outcome == "failed",
            LoginAttempt.at > since,
        )
    ).one()
    if count >= limit and latest is not None:
        locked: datetime = latest + lockout
        return locked
    return None


def check_login(
    session: Session, username: str, password: str, *, client: str, now: datetime, limits: Limits
) -> User:
    """Authenticate within the limits; every try adds a login_attempt row. On refusal the
    caller must still commit, so the failure counts (and the next try may go on)."""
    record = LoginAttempt(at=now, username=username[:80], client=client[:64], outcome="trying")
    _one_at_a_time(session, record)
    since = now - limits.window
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.outcome == "ok"
        )
    )
    user_since = max(since, last_ok) if last_ok is not None else since
    until = [
        u
        for u in (
            _locked_until(
                session,
                LoginAttempt.username,
                username,
                limits.max_failures,
                user_since,
                limits.lockout,
            ),
            _locked_until(
                session,
                LoginAttempt.client,
                client,
                limits.max_failures_per_client,
                since,
                limits.lockout,
            ),
        )
        if u is not None and u > now
    ]
    record.outcome = "failed"
    if until:
        record.outcome = "locked"  # not counted: a locked account is not locked longer by tries
        wait = math.ceil((max(until) - now).total_seconds())
        raise TooManyAttempts(
            f"too many failed logins; try again in {(wait + 59) // 60} minute(s)",
            details={"retry_after_seconds": wait},
        )
    user = authenticate(session, username, password)  # raises Unauthorized: stays "failed"
    record.outcome = "ok"
    return user
