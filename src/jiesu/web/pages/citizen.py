"""The citizen's own page (no login): submit a request with a photo, track it, rate the outcome.

Public views show no personal data and no unit-internal notes: the timeline lists only what
happened and when, and the unit's reply, which is written for the citizen.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from jiesu.auth.actor import Actor
from jiesu.cases import registration
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.schemas import MAX_ID, Resolved, Satisfaction, digits_only
from jiesu.cases.schemas import RegisterIn as _RegisterIn
from jiesu.cases.workflow import Role
from jiesu.errors import DomainError, InvalidInput
from jiesu.uow import UnitOfWork
from jiesu.web import flash, i18n
from jiesu.web.config import WebSettings
from jiesu.web.models import CitizenPhoto, CitizenRating
from jiesu.web.org import load_org
from jiesu.web.pages.common import with_query
from jiesu.web.ratelimit import Limiter
from jiesu.web.render import error_message, error_status, render
from jiesu.web.session import ANON_CSRF_COOKIE, CSRF_FIELD, anon_csrf, same

router = APIRouter()
WEB_CITIZEN = Actor("citizen-web", Role.CITIZEN)
# Magic bytes, not the file name or the browser's word, decide what a photo is.
MAGIC = {b"\xff\xd8\xff": ("image/jpeg", ".jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", ".png")}
PUBLIC_ACTIONS = {
    "register",
    "answer",
    "dispatch",
    "acknowledge",
    "contact",
    "reassign",
    "escalate",
    "approve_extension",
    "reply",
    "callback",
    "reopen",
    "merge",
    "terminate",
}
RESOLVED_VALUES: tuple[Resolved, ...] = ("yes", "partly", "no")
SATISFACTION_VALUES: tuple[Satisfaction, ...] = ("satisfied", "basically", "dissatisfied")


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    token = anon_csrf(request)
    with UnitOfWork(request.app.state.session_factory) as uow:
        org = load_org(uow.session)
    resp = render(request, "citizen.html", None, status_code, csrf=token, org=org, **context)
    ws: WebSettings = request.app.state.web_settings
    resp.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=ws.cookie_secure)
    return resp


@router.get("/citizen")
def citizen_page(request: Request) -> Response:
    return _page(request, form={})


def _limiters(request: Request) -> tuple[Limiter, Limiter]:
    """Per address and per case number; made on first use with the app's settings."""
    state = request.app.state
    if getattr(state, "track_limiters", None) is None:
        ws: WebSettings = state.web_settings
        window = timedelta(seconds=ws.track_window_seconds)
        state.track_limiters = (
            Limiter(ws.track_limit_per_ip, window),
            Limiter(ws.track_limit_per_case, window),
        )
    limiters: tuple[Limiter, Limiter] = state.track_limiters
    return limiters


def _guess_refused(request: Request, case_id: str) -> int:
    """Seconds to wait before this address may guess (this case) again; 0 when it may."""
    now = request.app.state.clock.now()
    by_ip, by_case = _limiters(request)
    ip = request.client.host if request.client else "?"
    return max(by_ip.retry_after(ip, now), by_case.retry_after(case_id, now))


def _guess_failed(request: Request, case_id: str) -> None:
    now = request.app.state.clock.now()
    by_ip, by_case = _limiters(request)
    by_ip.hit(request.client.host if request.client else "?", now)
    by_case.hit(case_id, now)


def _too_many(request: Request, wait: int) -> Response:
    lang = i18n.lang_of(request)
    minutes = max(1, -(-wait // 60))
    msg = i18n.gettext(lang, "Too many tries; please try again in %(minutes)s minutes.") % {
        "minutes": minutes
    }
    response = _page(request, 429, form={}, track_error=msg)
    response.headers["Retry-After"] = str(wait)
    return response


def _photo(data: bytes, limit: int) -> tuple[str, str]:
    if len(data) > limit:
        raise InvalidInput(
            f"photo: at most {limit // (1024 * 1024)} MB", details={"field": "photo"}
        )
    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            return kind
    raise InvalidInput("photo: only JPEG or PNG pictures", details={"field": "photo"})


@router.post("/citizen/submit")
async def submit(request: Request) -> Response:
    ws: WebSettings = request.app.state.web_settings
    form = await request.form(max_files=1, max_fields=20)
    try:
        fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
        upload = form.get("photo")
        data = b""
        if isinstance(upload, UploadFile) and upload.filename:
            # One byte more than allowed tells "too big" without reading a huge body.
            data = await upload.read(ws.photo_max_bytes + 1)
    finally:
        await form.close()
    # The database and the photo file are blocking work: off the event loop.
    return await run_in_threadpool(_submit, request, fields, data)


def _submit(request: Request, fields: dict[str, str], data: bytes) -> Response:
    lang = i18n.lang_of(request)
    ws: WebSettings = request.app.state.web_settings
    if not same(fields.get(CSRF_FIELD), request.cookies.get(ANON_CSRF_COOKIE)):
        msg = i18n.gettext(lang, "The form expired; please try again.")
        return _page(request, 403, form=fields, error=msg)
    try:
        photo: tuple[bytes, str, str] | None = None
        if data:
            kind, ext = _photo(data, ws.photo_max_bytes)
            photo = (data, kind, ext)
        if len(digits_only(fields.get("phone", ""))) < 7:
            raise InvalidInput(
                i18n.gettext(lang, "Phone: give your number; you track the case with it."),
                details={"field": "phone"},
            )
        cmd = _RegisterIn.model_validate(
            {
                "text": fields.get("text", ""),
                "request_type": fields.get("request_type") or "complaint",
                "street": fields.get("street") or None,
                "address": fields.get("address", ""),
                "channel": "web",
                "citizen": {"name": fields.get("name", ""), "phone": fields.get("phone", "")},
            }
        )
        with UnitOfWork(request.app.state.session_factory) as uow:
            case = registration.register_case(uow, request.app.state.clock, WEB_CITIZEN, cmd)
            if photo is not None:
                # The file first, then its row in the same transaction as the case's commit
                # would be ideal; register_case commits itself, so a second commit follows.
                name = secrets.token_hex(16) + photo[2]
                folder = ws.data_dir / "photos"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(photo[0])
                uow.session.add(
                    CitizenPhoto(
                        case_id=case.id,
                        stored_name=name,
                        content_type=photo[1],
                        size=len(photo[0]),
                        created_at=request.app.state.clock.now(),
                    )
                )
                uow.commit()
    except (DomainError, ValidationError) as exc:
        return _page(request, error_status(exc), form=fields, error=error_message(lang, exc))
    return flash.redirect(request, "/citizen", anon_csrf(request), created=case.id)


def _tracked(request: Request, case_id: str, phone4: str) -> Case | None:
    if not case_id.isdigit() or len(phone4) != 4 or not phone4.isdigit():
        return None
    with UnitOfWork(request.app.state.session_factory) as uow:
        case = uow.session.get(Case, int(case_id)) if int(case_id) <= MAX_ID else None
    if case is None or not digits_only(case.citizen_phone).endswith(phone4):
        return None
    return case


@router.get("/citizen/track")
def track(
    request: Request,
    case: Annotated[str, Query(max_length=20)] = "",
    phone4: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    lang = i18n.lang_of(request)
    wait = _guess_refused(request, case.strip())
    if wait:
        return _too_many(request, wait)
    found = _tracked(request, case.strip(), phone4.strip())
    if found is None:
        _guess_failed(request, case.strip())
        # One answer for "no such case" and "wrong digits": the tracker reveals nothing.
        msg = i18n.gettext(lang, "No case matches this number and these phone digits.")
        return _page(request, 404, form={}, track_error=msg, case=case)
    with UnitOfWork(request.app.state.session_factory) as uow:
        events = uow.session.execute(
            select(CaseEvent.at, CaseEvent.action)
            .where(CaseEvent.case_id == found.id, CaseEvent.action.in_(PUBLIC_ACTIONS))
            .order_by(CaseEvent.id)
        ).all()
        rated = uow.session.scalar(
            select(CitizenRating.id).where(CitizenRating.case_id == found.id).limit(1)
        )
    return _page(
        request,
        form={},
        tracked=found,
        events=events,
        phone4=phone4,
        can_rate=found.status == "replied" and rated is None,
        rated=rated is not None,
    )


@router.post("/citizen/rate")
async def rate(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    f = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_rate, request, f)


def _rate(request: Request, f: dict[str, str]) -> Response:
    lang = i18n.lang_of(request)
    if not same(f.get(CSRF_FIELD), request.cookies.get(ANON_CSRF_COOKIE)):
        msg = i18n.gettext(lang, "The form expired; please try again.")
        return _page(request, 403, form={}, track_error=msg)
    back = with_query("/citizen/track", case=f.get("case"), phone4=f.get("phone4"))
    wait = _guess_refused(request, f.get("case", ""))
    if wait:
        return _too_many(request, wait)
    found = _tracked(request, f.get("case", ""), f.get("phone4", ""))
    if found is None:
        _guess_failed(request, f.get("case", ""))
    if found is None or found.status != "replied":
        msg = i18n.gettext(lang, "This case cannot be rated now.")
        return _page(request, 409, form={}, track_error=msg)
    resolved, satisfaction = f.get("resolved", ""), f.get("satisfaction", "")
    if resolved not in RESOLVED_VALUES or satisfaction not in SATISFACTION_VALUES:
        msg = i18n.gettext(lang, "Answer all three questions.")
        return flash.redirect(request, back, anon_csrf(request), error=msg)
    with UnitOfWork(request.app.state.session_factory) as uow:
        uow.session.add(
            CitizenRating(
                case_id=found.id,
                at=request.app.state.clock.now(),
                contacted=f.get("contacted") == "yes",
                resolved=resolved,
                satisfaction=satisfaction,
                note=f.get("note", "")[:2000],
            )
        )
        uow.commit()
    ok = i18n.gettext(lang, "Thank you for your rating.")
    return flash.redirect(request, back, anon_csrf(request), ok=ok)
