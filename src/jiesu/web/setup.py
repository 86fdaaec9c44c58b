"""Mounts the consoles on the FastAPI app: static files, page routers, security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from jiesu.auth.http import PageHeaders
from jiesu.web import i18n
from jiesu.web.config import WebSettings
from jiesu.web.render import render
from jiesu.web.session import CsrfRefused, LoginRequired, RoleRefused, load_user

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/"

# No inline script or style anywhere: every page works under this policy.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def install(app: FastAPI, web_settings: WebSettings | None = None) -> None:
    from jiesu.web.pages.admin import router as admin
    from jiesu.web.pages.admin_catalog import router as admin_catalog
    from jiesu.web.pages.admin_policy import router as admin_policy
    from jiesu.web.pages.agent import router as agent
    from jiesu.web.pages.callback import router as callback
    from jiesu.web.pages.citizen import router as citizen
    from jiesu.web.pages.cockpit import router as cockpit
    from jiesu.web.pages.cockpit_governance import router as cockpit_governance
    from jiesu.web.pages.common import router as common
    from jiesu.web.pages.dispatcher import router as dispatcher
    from jiesu.web.pages.login import router as login
    from jiesu.web.pages.unit import router as unit

    app.state.web_settings = web_settings or WebSettings()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = (login, common, agent, dispatcher, unit, callback, citizen, cockpit)
    for router in (*routers, cockpit_governance, admin, admin_policy, admin_catalog):
        app.include_router(router, include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        target = "/login?next=" + request.url.path
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        lang = i18n.lang_of(request)
        msg = i18n.gettext(lang, "The form expired or did not come from this site; reload it.")
        user = await run_in_threadpool(load_user, request)
        return render(request, "refused.html", user, 403, message=msg)

    @app.exception_handler(RoleRefused)
    async def role_refused(request: Request, exc: RoleRefused) -> Response:
        lang = i18n.lang_of(request)
        roles = ", ".join(i18n.gettext(lang, i18n.ROLE[r.value]) for r in exc.roles)
        msg = i18n.gettext(lang, "This page is for another role:") + " " + roles
        user = await run_in_threadpool(load_user, request)
        return render(request, "refused.html", user, 403, message=msg)

    # Plain ASGI: @app.middleware("http") costs a task group per request (bench/serve).
    app.add_middleware(
        PageHeaders,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
        },
        cacheable=(STATIC_PREFIX,),
    )
