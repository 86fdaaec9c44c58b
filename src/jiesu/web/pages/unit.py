"""承办单位 console: the unit's inbox with due times counting down, and each case's actions."""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from jiesu.auth.permissions import Capability
from jiesu.cases import queries
from jiesu.cases.schemas import MAX_ID
from jiesu.cases.service import visible_case
from jiesu.clock import Clock
from jiesu.errors import DomainError, NotFound
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.deps import ClockDep, SettingsDep, UowDep
from jiesu.web.org import load_org
from jiesu.web.pages.common import xlsx
from jiesu.web.pages.queues import paged, unit_inbox
from jiesu.web.render import error_message, render
from jiesu.web.session import PageUser, PageUserDep, PostingUserDep, require_page

router = APIRouter()
BOXES = {
    "open": i18n.N_("To handle"),
    "returned": i18n.N_("Returned, awaiting review"),
    "done": i18n.N_("Replied"),
}


def console(
    request: Request, user: PageUser, uow: UnitOfWork, box: str = "open", page: int = 1
) -> Response:
    require_page(user, Capability.USE_UNIT_CONSOLE)
    box = box if box in BOXES else "open"
    org = load_org(uow.session)
    result = paged(uow.session, unit_inbox(user.actor, box), page)
    # A unit sees what the citizen said without the citizen's number or name (DESIGN §9).
    texts = {c.id: queries.shown_text(c, user.actor)(c.text) for c in result.items}
    return render(
        request, "unit.html", user, org=org, box=box, boxes=BOXES, result=result, texts=texts
    )


@router.get("/unit")
def inbox(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    box: Annotated[str, Query(max_length=20)] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return console(request, user, uow, box, page)


@router.get("/unit/export")
def export(
    user: PageUserDep,
    uow: UowDep,
    settings: SettingsDep,
    box: Annotated[str, Query(max_length=20)] = "open",
) -> Response:
    require_page(user, Capability.USE_UNIT_CONSOLE)
    # As the console does: the name goes into the file name (a header), so only known ones.
    box = box if box in BOXES else "open"
    tz = settings.tz
    org = load_org(uow.session)
    rows = uow.session.scalars(unit_inbox(user.actor, box).limit(50_000)).all()

    def t(v: object) -> str:
        return v.astimezone(tz).strftime("%Y-%m-%d %H:%M") if hasattr(v, "astimezone") else ""

    return xlsx(
        f"inbox-{box}",
        ["id", "status", "received", "category", "street", "contact_due", "reply_due", "text"],
        [
            [
                c.id,
                c.status,
                t(c.created_at),
                org.category(c.category),
                org.unit(c.street),
                t(c.contact_due),
                t(c.reply_due),
                queries.shown_text(c, user.actor)(c.text),
            ]
            for c in rows
        ],
    )


@router.get("/unit/case/{case_id}")
def case_view(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return case_page(request, user, uow, clock, case_id)


def case_page(
    request: Request,
    user: PageUser,
    uow: UnitOfWork,
    clock: Clock,
    case_id: int,
    error: str = "",
    revealed: Any = None,
) -> Response:
    """One case for its unit; another unit's case is simply not found (unit scoping)."""
    require_page(user, Capability.USE_UNIT_CONSOLE)
    org = load_org(uow.session)
    try:
        visible_case(uow.session, user.actor, case_id)
    except NotFound:
        lang = i18n.lang_of(request)
        msg = i18n.gettext(lang, "This case is not in your unit's inbox.")
        return render(request, "refused.html", user, 404, message=msg)
    case = queries.get_case(uow.session, user.actor, case_id, clock.now())
    events = queries.list_events(uow.session, user.actor, case_id)
    return render(
        request,
        "unit_case.html",
        user,
        422 if error else 200,
        org=org,
        c=case,
        events=events,
        error=error,
        revealed=revealed,
        can_reveal=_optional("jiesu.audit.reveal"),
        can_hint=_optional("jiesu.governance.reply_quality"),
    )


def _optional(module: str) -> bool:
    """Features from packages other engineers ship; the page shows them only when present."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@router.post("/unit/case/{case_id}/reveal")
def reveal(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The citizen's full name and phone, with a reason, written to the access log (审计).

    Answered on this page itself, never through a redirect, cookie or URL, so the number is
    in no browser history; the answer is marked no-store."""
    require_page(user, Capability.USE_UNIT_CONSOLE)
    lang = i18n.lang_of(request)
    if not _optional("jiesu.audit.reveal"):
        return render(request, "refused.html", user, 404, message=i18n.gettext(lang, "Not found."))
    from jiesu.audit.reveal import reveal_citizen

    try:
        shown = reveal_citizen(
            uow.session, user.actor, case_id, user.form.get("reason", "")[:500], clock.now()
        )
        uow.commit()
    except DomainError as exc:
        # A refused reveal writes nothing, not even its line in the access log.
        uow.rollback()
        return case_page(request, user, uow, clock, case_id, error=error_message(lang, exc))
    response = case_page(request, user, uow, clock, case_id, revealed=shown)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/unit/case/{case_id}/reply-hint")
def reply_hint(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """HTMX partial: the reply-quality score of the draft as the handler types."""
    require_page(user, Capability.USE_UNIT_CONSOLE)
    draft = user.form.get("text", "").strip()[:5000]
    quality = None
    if draft and _optional("jiesu.governance.reply_quality"):
        from jiesu.governance.reply_quality import assess_reply

        case = visible_case(uow.session, user.actor, case_id)
        try:
            quality = assess_reply(
                case.text, draft, requested_at=case.created_at, replied_at=clock.now()
            )
        except ValueError:
            quality = None
    return render(request, "_reply_hint.html", user, quality=quality)
