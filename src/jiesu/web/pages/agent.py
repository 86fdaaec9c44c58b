"""话务员 console: register a call in under a minute, with triage proposals as the agent types."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
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
from jiesu.web.org import load_org
from jiesu.web.render import error_message, error_status, render
from jiesu.web.session import PageUser, page_user, posting_user, require_page

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
    form: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    require_page(user, Capability.USE_AGENT_CONSOLE)
    with UnitOfWork(request.app.state.session_factory) as uow:
        org = load_org(uow.session)
    return render(
        request,
        "agent.html",
        user,
        status_code,
        org=org,
        form=form or {},
        error=error,
    )


@router.get("/agent")
def agent_page(request: Request, user: Annotated[PageUser, Depends(page_user)]) -> Response:
    return console(request, user)


@router.post("/agent/triage")
def triage_partial(request: Request, user: Annotated[PageUser, Depends(posting_user)]) -> Response:
    """HTMX partial: proposals for the words typed so far, and the caller's earlier cases."""
    require_page(user, Capability.USE_AGENT_CONSOLE)
    text = user.form.get("text", "").strip()[:10000]
    phone = user.form.get("phone", "").strip()[:32]
    now = request.app.state.clock.now()
    with UnitOfWork(request.app.state.session_factory) as uow:
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
def register(request: Request, user: Annotated[PageUser, Depends(posting_user)]) -> Response:
    require_page(user, Capability.USE_AGENT_CONSOLE)
    f = user.form
    lang = i18n.lang_of(request)
    body: dict[str, Any] = {k: f[k].strip() for k in FIELDS if f.get(k, "").strip()}
    body["citizen"] = {"name": f.get("name", "").strip(), "phone": f.get("phone", "").strip()}
    answer = f.get("answer", "").strip()
    clock = request.app.state.clock
    try:
        cmd = RegisterIn.model_validate(body)
        if answer and cmd.request_type != "inquiry":
            raise DomainError(
                i18n.gettext(lang, "Only an inquiry is answered at once; dispatch the others."),
                code="invalid_input",
            )
        with UnitOfWork(request.app.state.session_factory) as uow:
            case = registration.register_case(uow, clock, user.actor, cmd)
    except (DomainError, ValidationError) as exc:
        return console(request, user, f, error_message(lang, exc), error_status(exc))
    if answer:
        # The request is registered (and committed) first: an answer that fails never loses it.
        try:
            with UnitOfWork(request.app.state.session_factory) as uow:
                service.act(
                    uow,
                    clock,
                    user.actor,
                    case.id,
                    Action.ANSWER,
                    AnswerIn(text=answer),
                    request.app.state.settings.tz,
                )
        except (DomainError, ValidationError) as exc:
            log.info("answer after register failed for case %s", case.id)
            return flash.redirect(
                request, "/agent", user.csrf, created=case.id, error=error_message(lang, exc)
            )
        return flash.redirect(request, "/agent", user.csrf, created=case.id, answered=1)
    return flash.redirect(request, "/agent", user.csrf, created=case.id)
