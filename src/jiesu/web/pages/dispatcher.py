"""派单员 console: queues to dispatch and to review, one-click and batch dispatch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from jiesu.auth.permissions import Capability
from jiesu.cases import service
from jiesu.cases.schemas import DispatchIn
from jiesu.cases.workflow import Action
from jiesu.clock import Clock
from jiesu.errors import DomainError
from jiesu.inputs import whole_number
from jiesu.routing.rules import route
from jiesu.routing.service import load_rules
from jiesu.sla.due import overdue_kinds
from jiesu.uow import UnitOfWork
from jiesu.web import flash, i18n
from jiesu.web.deps import ClockDep, SettingsDep, UowDep
from jiesu.web.org import load_org
from jiesu.web.pages.common import xlsx
from jiesu.web.pages.queues import DISPATCHER_QUEUES, counts, dispatcher_queue, paged
from jiesu.web.render import error_message, render
from jiesu.web.session import PageUser, PageUserDep, PostingUserDep, require_page

router = APIRouter()
QUEUE_LABELS = {
    "dispatch": i18n.N_("To dispatch"),
    "returns": i18n.N_("Returns to review"),
    "extensions": i18n.N_("Extension requests"),
    "exclusions": i18n.N_("Exclusion requests"),
    "overdue": i18n.N_("Overdue"),
}


def console(
    request: Request,
    user: PageUser,
    uow: UnitOfWork,
    clock: Clock,
    queue: str = "dispatch",
    page: int = 1,
) -> Response:
    require_page(user, Capability.USE_DISPATCH_CONSOLE)
    queue = queue if queue in DISPATCHER_QUEUES else "dispatch"
    now = clock.now()
    org = load_org(uow.session)
    result = paged(uow.session, dispatcher_queue(queue, now), page)
    sizes = counts(uow.session, now)
    rules = load_rules(uow.session, now) if queue == "dispatch" else []
    proposals = {
        c.id: route(rules, c.category, c.district, c.street) for c in result.items if rules
    }
    return render(
        request,
        "dispatcher.html",
        user,
        org=org,
        queue=queue,
        queues=QUEUE_LABELS,
        sizes=sizes,
        result=result,
        proposals=proposals,
        overdue={c.id: overdue_kinds(c, now) for c in result.items},
    )


@router.get("/dispatcher")
def dispatcher_page(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    queue: Annotated[str, Query(max_length=20)] = "dispatch",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return console(request, user, uow, clock, queue, page)


@router.get("/dispatcher/export")
def export(
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
    queue: Annotated[str, Query(max_length=20)] = "dispatch",
) -> Response:
    require_page(user, Capability.USE_DISPATCH_CONSOLE)
    # As the console does: the name goes into the file name (a header), so only known ones.
    queue = queue if queue in DISPATCHER_QUEUES else "dispatch"
    tz = settings.tz
    org = load_org(uow.session)
    rows = uow.session.scalars(dispatcher_queue(queue, clock.now()).limit(50_000)).all()
    return xlsx(
        f"queue-{queue}",
        ["id", "status", "created", "category", "street", "lead_unit", "reply_due", "text"],
        [
            [
                c.id,
                c.status,
                c.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                org.category(c.category),
                org.unit(c.street),
                org.unit(c.lead_unit),
                c.reply_due.astimezone(tz).strftime("%Y-%m-%d %H:%M") if c.reply_due else "",
                c.text,
            ]
            for c in rows
        ],
    )


@router.post("/dispatcher/batch")
def batch_dispatch(
    request: Request, user: PostingUserDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """Dispatch every selected case by the routing rules; each case commits on its own, in a
    session of its own: a case refused half-way leaves nothing behind for the next commit."""
    require_page(user, Capability.USE_DISPATCH_CONSOLE)
    lang = i18n.lang_of(request)
    numbers = (whole_number(x, low=1) for x in user.lists.get("case_id", []))
    ids = [n for n in numbers if n is not None][:200]
    if not ids:
        msg = i18n.gettext(lang, "Select at least one case.")
        return flash.redirect(request, "/dispatcher", user.csrf, error=msg)
    done, failed = [], []
    for case_id in ids:
        try:
            with UnitOfWork(request.app.state.session_factory) as uow:
                service.act(
                    uow, clock, user.actor, case_id, Action.DISPATCH, DispatchIn(), settings.tz
                )
            done.append(case_id)
        except (DomainError, ValidationError) as exc:
            failed.append(f"{case_id}: {error_message(lang, exc)}")
    ok = f"{i18n.gettext(lang, 'Dispatched')}: {len(done)}" if done else None
    return flash.redirect(request, "/dispatcher", user.csrf, ok=ok, error="; ".join(failed))
