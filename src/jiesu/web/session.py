"""Browser login: a cookie session (its SHA-256 stored in web_session) and a CSRF token.

The session id is replaced at every login (no fixation); the CSRF token lives with the session
and must come back on every POST, as a form field or, from HTMX, in the X-CSRF-Token header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from jiesu.auth.actor import Actor
from jiesu.auth.models import User
from jiesu.auth.permissions import Capability, can, roles_with
from jiesu.cases.workflow import Role
from jiesu.uow import UnitOfWork
from jiesu.web.models import WebSession

COOKIE = "jiesu_session"
ANON_CSRF_COOKIE = "jiesu_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No valid session: the page handler answers with a redirect to /login."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


class RoleRefused(Exception):
    def __init__(self, roles: tuple[Role, ...]) -> None:
        super().__init__("wrong role")
        self.roles = roles


@dataclass
class PageUser:
    actor: Actor
    display_name: str
    csrf: str
    form: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)

    @property
    def role(self) -> Role:
        return self.actor.role


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, user: User, now: datetime, ttl: timedelta, old_token: str | None
) -> str:
    """A fresh session id for this login; the cookie's previous session, if any, is ended."""
    if old_token:
        session.execute(delete(WebSession).where(WebSession.id_hash == digest(old_token)))
    # Expired sessions are swept here, so the table never grows without bound.
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.id_hash == digest(token)))


def load_user(request: Request) -> PageUser | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    now = request.app.state.clock.now()
    with UnitOfWork(request.app.state.session_factory) as uow:
        row = uow.session.execute(
            select(User, WebSession)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.id_hash == digest(token))
        ).first()
    if row is None:
        return None
    user, ws = row
    if ws.expires_at <= now or not user.active:
        return None
    return PageUser(
        actor=Actor(user.username, Role(user.role), user.unit_code),
        display_name=user.display_name or user.username,
        csrf=ws.csrf_token,
    )


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def page_user(request: Request) -> PageUser:
    """The logged-in user of a GET page (a plain def: FastAPI runs it in its threadpool,
    so the session lookup never blocks the event loop)."""
    user = load_user(request)
    if user is None:
        raise LoginRequired()
    return user


async def posting_user(request: Request) -> PageUser:
    """The logged-in user of a POST, with the CSRF token checked and the form read."""
    user = await run_in_threadpool(page_user, request)
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not same(sent, user.csrf):
        raise CsrfRefused()
    user.form = {k: v for k, v in form.items() if isinstance(v, str)}
    user.lists = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return user


# A page's user, as the API's routes take CurrentActor. The lookup is a short transaction of
# its own (as the API's token lookup is), so the page's unit of work starts clean.
PageUserDep = Annotated[PageUser, Depends(page_user)]
PostingUserDep = Annotated[PageUser, Depends(posting_user)]


def require_page(user: PageUser, capability: Capability) -> None:
    """A console page's check: the refusal page names the roles that hold the capability."""
    if not can(user.actor, capability):
        raise RoleRefused(roles_with(capability))


def anon_csrf(request: Request) -> str:
    """Double-submit token for the citizen page, which has no login."""
    return request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(24)
