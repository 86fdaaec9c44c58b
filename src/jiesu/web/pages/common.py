"""What every console shares: the lifecycle action form, redirects after a POST, lists."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from openpyxl import Workbook
from pydantic import ValidationError

from jiesu.cases import service
from jiesu.cases.schemas import ACTION_SCHEMAS, MAX_ID
from jiesu.cases.workflow import Action
from jiesu.clock import Clock
from jiesu.errors import DomainError
from jiesu.sheets import xlsx_append
from jiesu.uow import UnitOfWork
from jiesu.web import flash, i18n
from jiesu.web.deps import ClockDep, UowDep
from jiesu.web.session import PageUser, PostingUserDep

router = APIRouter()

# Form fields that carry a list of unit codes (typed as "110101001, 110101002" or selected).
LIST_FIELDS = {"co_units", "units"}
_SPLIT = re.compile(r"[\s,，;；]+")


def safe_next(value: str | None, default: str = "/") -> str:
    # Only paths on this site: never an open redirect.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def with_query(path: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    if not clean:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode(clean)}"


def action_body(action: str, form: dict[str, str], lists: dict[str, list[str]]) -> dict[str, Any]:
    """Form strings → the action's JSON-like body; the schema then validates it like the API."""
    schema = ACTION_SCHEMAS[action]
    body: dict[str, Any] = {}
    for name in schema.model_fields:
        if name in LIST_FIELDS:
            values = [v for raw in lists.get(name, []) for v in _SPLIT.split(raw) if v]
            if values:
                body[name] = values
            continue
        value = form.get(name)
        if value is None or value.strip() == "":
            continue
        body[name] = value.strip()
    if "contacted" in schema.model_fields and "contacted" in body:
        body["contacted"] = body["contacted"] in ("yes", "true", "1", "on")
    return body


def run_action(
    request: Request, user: PageUser, uow: UnitOfWork, clock: Clock, case_id: int, action: str
) -> tuple[bool, str, int]:
    """(done, message, http status). Domain errors become a message for the page, and whatever
    the refused action left in the session is dropped."""
    lang = i18n.lang_of(request)
    if action not in ACTION_SCHEMAS:
        return False, i18n.gettext(lang, "Unknown action."), 404
    try:
        cmd = ACTION_SCHEMAS[action].model_validate(action_body(action, user.form, user.lists))
        service.act(
            uow, clock, user.actor, case_id, Action(action), cmd, request.app.state.settings.tz
        )
    except (DomainError, ValidationError) as exc:
        from jiesu.web.render import error_message, error_status

        uow.rollback()
        return False, error_message(lang, exc), error_status(exc)
    label = i18n.gettext(lang, i18n.ACTION.get(action, action))
    return True, f"{i18n.gettext(lang, 'Case')} {case_id}: {label}", 200


@router.post("/case/{case_id}/{action}")
def case_action(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: int = Path(ge=1, le=MAX_ID),
    action: str = Path(max_length=40),
) -> Response:
    """Every console posts its buttons here; the answer goes back to the page it came from."""
    done, message, status_code = run_action(request, user, uow, clock, case_id, action)
    back = safe_next(user.form.get("next"), "/")
    if request.headers.get("hx-request"):
        from jiesu.web.render import render

        return render(request, "_message.html", user, status_code, ok=done, message=message)
    return flash.redirect(request, back, user.csrf, **{"ok" if done else "error": message})


def xlsx(name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """Any list as an Excel file: what the screen shows, with its filters, every page."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(name[:31])
    xlsx_append(ws, headers)
    for row in rows:
        xlsx_append(ws, ["" if v is None else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
