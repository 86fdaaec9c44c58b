"""/login, /logout, the language switch and `/`, where every role finds its console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from jiesu.auth.limits import TooManyAttempts, check_login, limits_of
from jiesu.cases.workflow import Role
from jiesu.errors import DomainError, Unauthorized
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.config import WebSettings
from jiesu.web.deps import ClockDep, UowDep
from jiesu.web.pages.common import safe_next
from jiesu.web.render import render
from jiesu.web.session import (
    ANON_CSRF_COOKIE,
    COOKIE,
    CSRF_FIELD,
    PageUserDep,
    PostingUserDep,
    anon_csrf,
    end_session,
    load_user,
    same,
    start_session,
)

router = APIRouter()

CONSOLE = {
    Role.AGENT: "/agent",
    Role.DISPATCHER: "/dispatcher",
    Role.HANDLER: "/unit",
    Role.CALLBACK: "/callback",
    Role.LEADER: "/cockpit",
    Role.ANALYST: "/cockpit",
    Role.ADMIN: "/admin",
}


def _login_page(request: Request, error: str = "", status_code: int = 200) -> Response:
    token = anon_csrf(request)
    resp = render(
        request,
        "login.html",
        None,
        status_code,
        csrf=token,
        error=error,
        next=safe_next(request.query_params.get("next"), "/"),
    )
    _set_anon(request, resp, token)
    return resp


def _set_anon(request: Request, resp: Response, token: str) -> None:
    ws: WebSettings = request.app.state.web_settings
    resp.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=ws.cookie_secure)


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    lang = i18n.lang_of(request)
    # Login CSRF: the form must come from our own page (double-submit cookie).
    if not same(csrf_token, request.cookies.get(ANON_CSRF_COOKIE)):
        return _login_page(request, i18n.gettext(lang, "The form expired; please try again."), 403)
    ws: WebSettings = request.app.state.web_settings
    now = request.app.state.clock.now()
    client = request.client.host if request.client else "unknown"
    try:
        with UnitOfWork(request.app.state.session_factory) as uow:
            try:
                # The same throttle and lockout as the API's token endpoint: one count.
                user = check_login(
                    uow.session,
                    username.strip(),
                    password,
                    client=client,
                    now=now,
                    limits=limits_of(request.app.state.settings),
                )
            except DomainError:
                uow.commit()  # the failed try must count towards the lockout
                raise
            token = start_session(
                uow.session,
                user,
                now,
                timedelta(hours=ws.session_ttl_hours),
                request.cookies.get(COOKIE),
            )
            uow.commit()
    except TooManyAttempts as exc:
        wait = int(exc.details["retry_after_seconds"])
        msg = i18n.gettext(lang, "Too many failed logins; please try again in %(minutes)s minutes.")
        resp = _login_page(request, msg % {"minutes": max(1, -(-wait // 60))}, 429)
        resp.headers["Retry-After"] = str(wait)
        return resp
    except Unauthorized:
        return _login_page(request, i18n.gettext(lang, "Wrong username or password."), 401)
    resp = RedirectResponse(safe_next(next, "/"), status_code=303)
    resp.set_cookie(
        COOKIE,
        token,
        max_age=ws.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=ws.cookie_secure,
    )
    return resp


@router.post("/logout")
def logout(request: Request, user: PostingUserDep, uow: UowDep) -> Response:
    end_session(uow.session, request.cookies.get(COOKIE))
    uow.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp


@router.get("/lang")
def switch_language(
    request: Request,
    to: Annotated[str, Query(max_length=10)] = i18n.DEFAULT_LANG,
    next: Annotated[str, Query(max_length=500)] = "/",
) -> Response:
    resp = RedirectResponse(safe_next(next, "/"), status_code=303)
    if to in i18n.LANGS:
        resp.set_cookie(i18n.LANG_COOKIE, to, max_age=365 * 86400, samesite="lax")
    return resp


@router.get("/")
def home(request: Request, user: PageUserDep, uow: UowDep, clock: ClockDep) -> Response:
    # Each role's console is its home; the address stays "/".
    from jiesu.web.pages import agent, callback, cockpit, dispatcher, unit

    consoles: dict[Role, Callable[[], Response]] = {
        Role.AGENT: lambda: agent.console(request, user, uow),
        Role.DISPATCHER: lambda: dispatcher.console(request, user, uow, clock),
        Role.HANDLER: lambda: unit.console(request, user, uow),
        Role.CALLBACK: lambda: callback.console(request, user, uow),
        Role.LEADER: lambda: cockpit.console(request, user, uow, clock),
        Role.ANALYST: lambda: cockpit.console(request, user, uow, clock),
    }
    console = consoles.get(user.role)
    if console is None:
        return RedirectResponse(CONSOLE.get(user.role, "/login"), status_code=303)
    return console()


__all__ = ["CONSOLE", "load_user", "router"]
