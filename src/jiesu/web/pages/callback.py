"""回访员 console: replied cases, the script, three answers in three clicks, reopen if unsolved."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from jiesu.auth.permissions import Capability
from jiesu.cases import queries
from jiesu.cases.schemas import MAX_ID
from jiesu.errors import NotFound
from jiesu.uow import UnitOfWork
from jiesu.web import flash
from jiesu.web.deps import ClockDep, UowDep
from jiesu.web.models import CitizenRating
from jiesu.web.org import load_org
from jiesu.web.pages.common import run_action
from jiesu.web.pages.queues import callback_queue, paged
from jiesu.web.render import render
from jiesu.web.session import PageUser, PageUserDep, PostingUserDep, require_page

router = APIRouter()


def console(request: Request, user: PageUser, uow: UnitOfWork, page: int = 1) -> Response:
    require_page(user, Capability.USE_CALLBACK_CONSOLE)
    org = load_org(uow.session)
    result = paged(uow.session, callback_queue(), page)
    ids = [c.id for c in result.items]
    rated = set(
        uow.session.scalars(
            select(CitizenRating.case_id).where(
                CitizenRating.case_id.in_(ids),
                CitizenRating.applied.is_(False),
                CitizenRating.superseded_at.is_(None),
            )
        )
    )
    return render(request, "callback.html", user, org=org, result=result, rated=rated)


@router.get("/callback")
def queue_page(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return console(request, user, uow, page)


@router.get("/callback/case/{case_id}")
def case_page(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    require_page(user, Capability.USE_CALLBACK_CONSOLE)
    org = load_org(uow.session)
    try:
        case = queries.get_case(uow.session, user.actor, case_id, clock.now())
    except NotFound as exc:
        return render(request, "refused.html", user, 404, message=exc.message)
    rating = uow.session.scalar(
        select(CitizenRating).where(
            CitizenRating.case_id == case_id,
            CitizenRating.applied.is_(False),
            # The citizen's newest answer; earlier ones are its history, not a choice.
            CitizenRating.superseded_at.is_(None),
        )
    )
    return render(request, "callback_case.html", user, org=org, c=case, rating=rating)


@router.post("/callback/case/{case_id}")
def record(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The callback itself; a citizen's pending rating for the case is marked as used."""
    require_page(user, Capability.USE_CALLBACK_CONSOLE)
    done, message, _ = run_action(request, user, uow, clock, case_id, "callback")
    if not done:
        return flash.redirect(request, f"/callback/case/{case_id}", user.csrf, error=message)
    # A second transaction, after the callback's own commit (service.act commits): the callback
    # is never lost for want of the ratings' bookkeeping.
    for rating in uow.session.scalars(
        select(CitizenRating).where(
            CitizenRating.case_id == case_id, CitizenRating.applied.is_(False)
        )
    ):
        rating.applied = True
    uow.commit()
    return flash.redirect(request, "/callback", user.csrf, ok=message)
