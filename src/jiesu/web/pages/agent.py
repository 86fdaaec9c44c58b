"""话务员 console: register a call in under a minute, with triage proposals as the agent types."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from jiesu.auth.permissions import Capability
from jiesu.cases import queries, registration, service
from jiesu.cases.schemas import AnswerIn, RegisterIn
from jiesu.cases.workflow import Action
from jiesu.errors import DomainError
from jiesu.uow import UnitOfWork
from jiesu.web import flash, i18n
from jiesu.web.deps import ClockDep, SettingsDep, UowDep
from jiesu.web.org import load_org
from jiesu.web.render import error_message, error_status, render
from jiesu.web.session import PageUser, PageUserDep, PostingUserDep, require_page

log = logging.getLogger("jiesu.web")
router = APIRouter()
FIELDS = ("text", "request_type", "category", "urgency", "street", "address", "channel")


def _propose(session: Session, now: datetime, text: str, address: str) -> dict[str, Any] | None:
    """The triage engine's proposal, or None while the engine is not installed or fails:
    a proposal helps the agent but must never block the call."""
    try:
        from jiesu.triage.service import proposal_record
    except ImportError:  # pragma: no cover - triage ships with jiesu
        return None
    return proposal_record(session, now, text=text, address=address or None)


def console(
    request: Request,
    user: PageUser,
    uow: UnitOfWork,
    form: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    require_page(user, Capability.USE_AGENT_CONSOLE)
    return render(
        request,
        "agent.html",
        user,
        status_code,
        org=load_org(uow.session),
        form=form or {},
        error=error,
    )


@router.get("/agent")
def agent_page(request: Request, user: PageUserDep, uow: UowDep) -> Response:
    return console(request, user, uow)


@router.post("/agent/triage")
def triage_partial(
    request: Request, user: PostingUserDep, uow: UowDep, clock: ClockDep
) -> Response:
    """HTMX partial: proposals for the words typed so far, and the caller's earlier cases."""
    require_page(user, Capability.USE_AGENT_CONSOLE)
    text = user.form.get("text", "").strip()[:10000]
    phone = user.form.get("phone", "").strip()[:32]
    now = clock.now()
    org = load_org(uow.session)
    proposal = _propose(uow.session, now, text, user.form.get("address", "")) if text else None
    earlier = (
        queries.list_cases(uow.session, user.actor, now, phone=phone, page_size=5).items
        if len(phone) >= 7
        else []
    )
    return render(
        request, "_triage.html", user, proposal=proposal, earlier=earlier, org=org, phone=phone
    )


@router.post("/agent/register")
def register(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    require_page(user, Capability.USE_AGENT_CONSOLE)
    f = user.form
    lang = i18n.lang_of(request)
    body: dict[str, Any] = {k: f[k].strip() for k in FIELDS if f.get(k, "").strip()}
    body["citizen"] = {"name": f.get("name", "").strip(), "phone": f.get("phone", "").strip()}
    answer = f.get("answer", "").strip()
    try:
        cmd = RegisterIn.model_validate(body)
        if answer and cmd.request_type != "inquiry":
            raise DomainError(
                i18n.gettext(lang, "Only an inquiry is answered at once; dispatch the others."),
                code="invalid_input",
            )
        case = registration.register_case(uow, clock, user.actor, cmd)
    except (DomainError, ValidationError) as exc:
        # Whatever the refused registration left in the session is dropped: nothing is written.
        uow.rollback()
        return console(request, user, uow, f, error_message(lang, exc), error_status(exc))
    if answer:
        # The request is registered (and committed) first: an answer that fails never loses it.
        # The answer is a second transaction in a session of its own, which loads the new case
        # afresh rather than the registration's copy (the factory keeps objects on commit).
        try:
            with UnitOfWork(request.app.state.session_factory) as second:
                service.act(
                    second,
                    clock,
                    user.actor,
                    case.id,
                    Action.ANSWER,
                    AnswerIn(text=answer),
                    settings.tz,
                )
        except (DomainError, ValidationError) as exc:
            log.info("answer after register failed for case %s", case.id)
            return flash.redirect(
                request, "/agent", user.csrf, created=case.id, error=error_message(lang, exc)
            )
        return flash.redirect(request, "/agent", user.csrf, created=case.id, answered=1)
    return flash.redirect(request, "/agent", user.csrf, created=case.id)
