"""The citizen's own page (no login): submit a request with a photo, track it, rate the outcome.

Public views show no personal data and no unit-internal notes: the timeline lists only what
happened and when, and the unit's reply, which is written for the citizen.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from jiesu.auth.actor import Actor
from jiesu.cases import registration
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.schemas import MAX_ID, Resolved, Satisfaction, digits_only
from jiesu.cases.schemas import RegisterIn as _RegisterIn
from jiesu.cases.workflow import Role, Status
from jiesu.errors import DomainError, InvalidInput
from jiesu.inputs import digits, whole_number
from jiesu.uow import UnitOfWork
from jiesu.web import flash, i18n
from jiesu.web.config import WebSettings
from jiesu.web.models import CitizenPhoto, CitizenRating
from jiesu.web.org import load_org
from jiesu.web.pages.common import with_query
from jiesu.web.ratelimit import Limit, give_back, take
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
GUESSES_LIMITED = i18n.N_("Too many tries; please try again in %(minutes)s minutes.")
SUBMITS_LIMITED = i18n.N_(
    "Too many requests from your network address; please try again in %(minutes)s minutes."
)


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


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _track_limits(request: Request) -> tuple[Limit, Limit]:
    """Per client address and per case number."""
    ws: WebSettings = request.app.state.web_settings
    window = timedelta(seconds=ws.track_window_seconds)
    return (
        Limit("track-ip", ws.track_limit_per_ip, window),
        Limit("track-case", ws.track_limit_per_case, window),
    )


def _case_key(case_id: str) -> str | None:
    # `01502`, `１５０２` and `1502` are one case, so they share one count.
    number = whole_number(case_id, low=1, high=MAX_ID)
    return None if number is None else str(number)


def _take_guess(request: Request, case_key: str | None, now: datetime) -> int:
    """Counts this guess before it is checked: 0 when it may go on, else seconds to wait."""
    by_ip, by_case = _track_limits(request)
    with UnitOfWork(request.app.state.session_factory) as uow:
        wait = take(uow.session, by_ip, _client(request), now)
        if not wait and case_key is not None:
            wait = take(uow.session, by_case, case_key, now)
        uow.commit()
    return wait


def _guess(request: Request, case_id: str, phone4: str) -> tuple[Case | None, int]:
    """The case that this number and these digits open (or None), and the seconds to wait
    when the guess is refused. Only wrong guesses count: a right one gives its slots back."""
    now = request.app.state.clock.now()
    case_key = _case_key(case_id)
    wait = _take_guess(request, case_key, now)
    if wait:
        return None, wait
    found = _tracked(request, case_id, phone4)
    if found is not None:
        by_ip, by_case = _track_limits(request)
        with UnitOfWork(request.app.state.session_factory) as uow:
            give_back(uow.session, by_ip, _client(request), now)
            give_back(uow.session, by_case, str(case_key), now)
            uow.commit()
    return found, 0


def _wait_text(lang: str, message: str, wait: int) -> str:
    return i18n.gettext(lang, message) % {"minutes": max(1, -(-wait // 60))}


def _too_many(request: Request, wait: int) -> Response:
    lang = i18n.lang_of(request)
    msg = _wait_text(lang, GUESSES_LIMITED, wait)
    response = _page(request, 429, form={}, track_error=msg)
    response.headers["Retry-After"] = str(wait)
    return response


def _photo(data: bytes, limit: int) -> tuple[str, str]:
    if len(data) > limit:
        raise InvalidInput.of("max_megabytes", field="photo", limit=limit // (1024 * 1024))
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
    per_ip = Limit("submit-ip", ws.submit_limit_per_ip, timedelta(seconds=ws.submit_window_seconds))
    now = request.app.state.clock.now()
    with UnitOfWork(request.app.state.session_factory) as uow:
        wait = take(uow.session, per_ip, _client(request), now)
        uow.commit()
    if wait:
        text = (
            "Too many requests from your network address; please try again in %(minutes)s minutes."
        )
        response = _page(request, 429, form=fields, error=_wait_text(lang, text, wait))
        response.headers["Retry-After"] = str(wait)
        return response
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
        with UnitOfWork(request.app.state.session_factory) as uow:
            give_back(uow.session, per_ip, _client(request), now)  # only cases count
            uow.commit()
        return _page(request, error_status(exc), form=fields, error=error_message(lang, exc))
    return flash.redirect(request, "/citizen", anon_csrf(request), created=case.id)


def _tracked(request: Request, case_id: str, phone4: str) -> Case | None:
    number = whole_number(case_id, low=1, high=MAX_ID)
    tail = digits(phone4)
    if number is None or tail is None or len(tail) != 4:
        return None
    with UnitOfWork(request.app.state.session_factory) as uow:
        case = uow.session.get(Case, number)
    if case is None or not digits_only(case.citizen_phone).endswith(tail):
        return None
    return case


@router.get("/citizen/track")
def track_link(request: Request, case: str = "") -> Response:
    """A link to one case's tracker (an SMS or a bookmark may carry it): the form with the
    case number filled in. The phone digits are never read from the address, where every
    access log and browser history would keep them; the form posts them."""
    return _page(request, form={}, case=case.strip()[:20])


@router.post("/citizen/track")
async def track(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    f = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_track, request, f)


def _track(request: Request, f: dict[str, str]) -> Response:
    lang = i18n.lang_of(request)
    case_id, phone4 = f.get("case", "")[:20], f.get("phone4", "")[:8]
    if not same(f.get(CSRF_FIELD), request.cookies.get(ANON_CSRF_COOKIE)):
        msg = i18n.gettext(lang, "The form expired; please try again.")
        return _page(request, 403, form={}, track_error=msg, case=case_id)
    found, wait = _guess(request, case_id, phone4)
    if wait:
        return _too_many(request, wait)
    if found is None:
        # One answer for "no such case" and "wrong digits": the tracker reveals nothing.
        msg = i18n.gettext(lang, "No case matches this number and these phone digits.")
        return _page(request, 404, form={}, track_error=msg, case=case_id)
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
        phone4=digits(phone4),
        can_rate=found.status == Status.REPLIED and rated is None,
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
    # The phone digits are the tracker's secret: never in a URL (access logs, history).
    back = with_query("/citizen/track", case=f.get("case"))
    found, wait = _guess(request, f.get("case", "")[:20], f.get("phone4", "")[:8])
    if wait:
        return _too_many(request, wait)
    if found is None or found.status != Status.REPLIED:
        msg = i18n.gettext(lang, "This case cannot be rated now.")
        return _page(request, 409, form={}, track_error=msg)
    resolved, satisfaction = f.get("resolved", ""), f.get("satisfaction", "")
    if resolved not in RESOLVED_VALUES or satisfaction not in SATISFACTION_VALUES:
        msg = i18n.gettext(lang, "Answer all three questions.")
        return flash.redirect(request, back, anon_csrf(request), error=msg)
    answers = {
        "contacted": f.get("contacted") == "yes",
        "resolved": resolved,
        "satisfaction": satisfaction,
        "note": f.get("note", "")[:2000],
    }
    # Two posts at the same moment: the unique index lets one become current and refuses
    # the other, which tries once more on top of it.
    for _ in range(2):
        try:
            _store_rating(request, found.id, answers)
            break
        except IntegrityError:
            continue
    else:
        msg = i18n.gettext(lang, "This case cannot be rated now.")
        return _page(request, 409, form={}, track_error=msg)
    ok = i18n.gettext(lang, "Thank you for your rating.")
    return flash.redirect(request, back, anon_csrf(request), ok=ok)


def _store_rating(request: Request, case_id: int, answers: dict[str, Any]) -> None:
    """The case's one current rating is the newest: the earlier ones are marked superseded
    (kept as its history), so rating many times never counts more than once."""
    now = request.app.state.clock.now()
    with UnitOfWork(request.app.state.session_factory) as uow:
        uow.session.execute(
            update(CitizenRating)
            .where(CitizenRating.case_id == case_id, CitizenRating.superseded_at.is_(None))
            .values(superseded_at=now)
        )
        uow.session.add(CitizenRating(case_id=case_id, at=now, **answers))
        uow.commit()
