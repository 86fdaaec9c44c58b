"""Login throttling: after too many failures a username, and separately a client address, is
locked for a while. Counted from login_attempt rows, so the limit holds across server workers
and restarts, and every try is on record.

Per username: slows guessing one person's password. Per client: slows one address trying many
usernames (password spraying); its limit is higher because a call centre's agents may share
one NAT address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from jiesu.auth.models import LoginAttempt, User
from jiesu.auth.service import authenticate
from jiesu.errors import DomainError


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    max_failures_per_client: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


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
    caller must still commit, so the failure counts."""
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
    record = LoginAttempt(at=now, username=username[:80], client=client[:64], outcome="failed")
    session.add(record)
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
