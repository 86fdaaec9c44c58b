"""承办单位 console: the unit's inbox with due times counting down, and each case's actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from jiesu.cases import queries
from jiesu.cases.service import visible_case
from jiesu.cases.workflow import Role
from jiesu.errors import NotFound
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.org import load_org
from jiesu.web.pages.common import xlsx
from jiesu.web.pages.queues import paged, unit_inbox
from jiesu.web.render import render
from jiesu.web.session import PageUser, page_user, require_role

router = APIRouter()
ROLES = (Role.HANDLER,)
BOXES = {
    "open": i18n.N_("To handle"),
    "returned": i18n.N_("Returned, awaiting review"),
    "done": i18n.N_("Replied"),
}


def console(request: Request, user: PageUser, box: str = "open", page: int = 1) -> Response:
    require_role(user, *ROLES)
    box = box if box in BOXES else "open"
    with UnitOfWork(request.app.state.session_factory) as uow:
        org = load_org(uow.session)
        result = paged(uow.session, unit_inbox(user.actor, box), page)
    return render(request, "unit.html", user, org=org, box=box, boxes=BOXES, result=result)


@router.get("/unit")
def inbox(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    box: Annotated[str, Query(max_length=20)] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return console(request, user, box, page)


@router.get("/unit/export")
def export(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    box: Annotated[str, Query(max_length=20)] = "open",
) -> Response:
    require_role(user, *ROLES)
    tz = request.app.state.settings.tz
    with UnitOfWork(request.app.state.session_factory) as uow:
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
                c.text,
            ]
            for c in rows
        ],
    )


@router.get("/unit/case/{case_id}")
def case_page(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    case_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    """One case for its unit; another unit's case is simply not found (unit scoping)."""
    require_role(user, *ROLES)
    now = request.app.state.clock.now()
    with UnitOfWork(request.app.state.session_factory) as uow:
        org = load_org(uow.session)
        try:
            visible_case(uow.session, user.actor, case_id)
        except NotFound:
            lang = i18n.lang_of(request)
            msg = i18n.gettext(lang, "This case is not in your unit's inbox.")
            return render(request, "refused.html", user, 404, message=msg)
        case = queries.get_case(uow.session, user.actor, case_id, now)
        events = queries.list_events(uow.session, user.actor, case_id)
    return render(request, "unit_case.html", user, org=org, c=case, events=events)
