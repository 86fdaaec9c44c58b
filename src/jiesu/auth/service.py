"""Password login and bearer tokens (stored as SHA-256 hashes, never in clear)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.auth.cache import TOKENS
from jiesu.auth.models import ApiToken, User
from jiesu.cases.workflow import Role
from jiesu.errors import InvalidInput, Unauthorized
from jiesu.units.models import Unit

_hasher = PasswordHasher()
# Spend the same time on an unknown user as on a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 10
EXPIRED = "token expired or revoked; log in again"


def password_problem(password: str, username: str) -> InvalidInput | None:
    """The minimum policy for people's passwords, or None when it is met."""
    if len(password) < MIN_PASSWORD:
        return InvalidInput.of("min_chars", field="password", limit=MIN_PASSWORD)
    if password.isdigit():
        return InvalidInput(
            "password: not only digits (add letters or signs)", details={"field": "password"}
        )
    if password.strip().casefold() == username.strip().casefold():
        return InvalidInput("password: must not be the username", details={"field": "password"})
    return None


def hash_password(password: str) -> str:
    # The policy is checked where the username is known (create_user); the demo logins are
    # hashed here directly by bootstrap.
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    unit_code: str | None,
    now: datetime,
    display_name: str = "",
) -> User:
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidInput(
            f"role: '{role}' is not one of {', '.join(r.value for r in Role)}"
        ) from None
    if role_ is Role.HANDLER:
        if not unit_code or session.get(Unit, unit_code) is None:
            raise InvalidInput("unit: a handler needs the code of an existing unit")
    elif unit_code is not None:
        raise InvalidInput("unit: only handlers belong to a unit")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput.of("taken", field="username", value=username)
    problem = password_problem(password, username)
    if problem is not None:
        raise problem
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role_.value,
        unit_code=unit_code,
        display_name=display_name,
        created_at=now,
    )
    session.add(user)
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise Unauthorized("wrong username or password")
    if not _verify(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, now: datetime, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=now + ttl)
    )
    return token


def remembered_actor(token: str, now: datetime) -> Actor | None:
    """Who holds this token if it was found valid in the last few seconds (jiesu.auth.cache
    says what that means for revocation), else None: ask actor_for_token. No I/O."""
    hit = TOKENS.get(_digest(token))
    if hit is None:
        return None
    if hit.expires_at <= now:
        raise Unauthorized(EXPIRED)
    return hit.actor


def actor_for_token(session: Session, token: str, now: datetime) -> Actor:
    """Who holds this token; a remembered one costs no query (and so no connection)."""
    actor = remembered_actor(token, now)
    if actor is not None:
        return actor
    digest = _digest(token)
    generation = TOKENS.generation
    row = session.execute(
        select(User.username, User.role, User.unit_code, User.active)
        .add_columns(ApiToken.revoked, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        raise Unauthorized("invalid token")
    username, role, unit_code, active, revoked, expires_at = row
    if revoked or expires_at <= now or not active:
        raise Unauthorized(EXPIRED)
    actor = Actor(username, Role(role), unit_code)
    TOKENS.put(digest, actor, expires_at, generation)
    return actor


def revoke_token(session: Session, token: str) -> bool:
    tok = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if tok is None:
        return False
    tok.revoked = True
    return True


def revoke_user_tokens(session: Session, username: str) -> int:
    """Revoke every live API token of a user and end their web sessions; how many tokens."""
    from jiesu.web.models import WebSession

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InvalidInput(f"username: no user '{username}'", details={"field": "username"})
    # Expired ones too: the count then says what could still have been used.
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
    ).all()
    for tok in tokens:
        tok.revoked = True
    for web in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        session.delete(web)
    return len(tokens)
