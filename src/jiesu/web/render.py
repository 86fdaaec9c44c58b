"""Rendering pages: one Jinja environment per language, shared helpers and error messages."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from jiesu.auth.permissions import Capability, can
from jiesu.cases.workflow import Role, Status, allowed_actions
from jiesu.errors import DomainError
from jiesu.web import flash, i18n
from jiesu.web.session import PageUser

TEMPLATES = Path(__file__).parent / "templates"


def _local(value: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value else ""


def offered(status: str, role: Role) -> list[str]:
    """The lifecycle actions a queue row may offer this role (the workflow's table)."""
    return allowed_actions(Status(status), role)


@lru_cache(maxsize=len(i18n.LANGS))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        STATUS=i18n.STATUS,
        REQUEST_TYPE=i18n.REQUEST_TYPE,
        URGENCY=i18n.URGENCY,
        ACTION=i18n.ACTION,
        ROLE=i18n.ROLE,
        RESOLVED=i18n.RESOLVED,
        SATISFACTION=i18n.SATISFACTION,
        remaining=remaining,
        # Navigation and buttons ask the permissions table, never a role name.
        can=can,
        offered=offered,
        CAN=Capability,
        lang=lang,
        html_lang="zh-CN" if lang == "zh_CN" else "en",
    )
    return env


def render(
    request: Request,
    name: str,
    user: PageUser | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    tz: ZoneInfo = request.app.state.settings.tz
    # Not ClockDep: render is also called by the exception handlers, which take no dependencies.
    now: datetime = request.app.state.clock.now()
    template = environment(lang).get_template(name)
    csrf = user.csrf if user else context.pop("csrf", "")
    # Partials ("_x.html", swapped in by HTMX) leave the one-time message to the full page.
    full_page = not name.startswith("_")
    message = flash.decode(csrf, request.cookies.get(flash.COOKIE)) if full_page else {}
    html = template.render(
        request=request,
        user=user,
        csrf=csrf,
        now=now,
        local=lambda v, fmt="%Y-%m-%d %H:%M": _local(v, tz, fmt),
        flash=message,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if full_page and flash.COOKIE in request.cookies:
        response.delete_cookie(flash.COOKIE)
    return response


def error_message(lang: str, exc: DomainError | ValidationError) -> str:
    """A message for the page: the translated kind of problem, then the translated reason."""
    from jiesu.web.messages import error_message as translated

    return translated(lang, exc)


def error_status(exc: DomainError | ValidationError) -> int:
    return 422 if isinstance(exc, ValidationError) else exc.status_code


def remaining(due: datetime | None, now: datetime) -> str:
    """Hours and minutes left (negative: overdue), the same text the countdown script writes."""
    if due is None:
        return ""
    secs = int((due - now).total_seconds())
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return (
        f"{sign}{days}d {hours:02d}:{minutes:02d}" if days else f"{sign}{hours:02d}:{minutes:02d}"
    )
