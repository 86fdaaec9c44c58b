"""JSON API of the case aggregate: /api/v1/cases and one POST route per lifecycle action."""

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response, status

from jiesu.auth.permissions import Capability, require
from jiesu.cases import queries, service
from jiesu.cases.registrar import Registrar
from jiesu.cases.registration import Registration
from jiesu.cases.schemas import (
    ACTION_SCHEMAS,
    MAX_ID,
    ActionIn,
    CaseOut,
    CasePage,
    EventOut,
    RegisterIn,
)
from jiesu.cases.workflow import Action, Status
from jiesu.errors import InvalidInput
from jiesu.intake import idempotency
from jiesu.web.deps import ClockDep, CurrentActor, SettingsDep, UowDep
from jiesu.web.responses import errors

router = APIRouter(prefix="/cases", tags=["cases"], responses=errors(400, 401, 403, 404, 409, 422))

CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED)
async def register(
    body: RegisterIn,
    request: Request,
    actor: CurrentActor,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", json_schema_extra={"pattern": idempotency.KEY_PATTERN}),
    ] = None,
) -> Response:
    # The process's registrar stores it with whatever else arrived meanwhile, in one
    # transaction, and answers once that has committed (cases/registrar.py). The triage
    # proposal is stored next to what the agent chose, so its accuracy in real use can be
    # reported (`jiesu model report`).
    key = idempotency.check_key(idempotency_key) if idempotency_key is not None else None
    registrar: Registrar = request.app.state.registrar
    claim = idempotency.Key(key, body_hash="") if key is not None else None  # hashed there
    answer = await registrar.register(Registration(actor, body, claim, propose=True))
    headers = {}
    if key is not None:
        # A retry with the same key and body answers with the first result (DESIGN §9).
        headers["Idempotent-Replayed"] = "true" if answer.replayed else "false"
    # The CaseOut was validated when it was made: serialised here once, as FastAPI would
    # (response_model documents it), without FastAPI validating it a second time.
    return Response(
        answer.case.model_dump_json(by_alias=True),
        status_code=answer.status,  # 201, or a replay's first status (with a key only)
        headers=headers,
        media_type="application/json",
    )


@router.get("", response_model=CasePage)
def list_cases(
    uow: UowDep,
    clock: ClockDep,
    actor: CurrentActor,
    settings: SettingsDep,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> CasePage:
    if page_size > settings.page_size_max:
        raise InvalidInput.of("max_count", field="page_size", limit=settings.page_size_max)
    for stamp, name in ((created_from, "created_from"), (created_to, "created_to")):
        if stamp is not None and stamp.tzinfo is None:
            raise InvalidInput.of("needs_timezone", field=name)
    statuses = [s.value for s in status_ or []]
    return queries.list_cases(
        uow.session,
        actor,
        clock.now(),
        status=statuses,
        unit=unit,
        category=category,
        created_from=created_from,
        created_to=created_to,
        phone=phone,
        page=page,
        page_size=page_size,
    )


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case_id: CaseId, uow: UowDep, clock: ClockDep, actor: CurrentActor) -> CaseOut:
    return queries.get_case(uow.session, actor, case_id, clock.now())


@router.get("/{case_id}/events", response_model=list[EventOut])
def get_events(case_id: CaseId, uow: UowDep, actor: CurrentActor) -> list[EventOut]:
    require(actor, Capability.READ_CASE_EVENTS)
    return queries.list_events(uow.session, actor, case_id)


def _action_route(action: Action, schema: type[ActionIn]) -> Callable[..., CaseOut]:
    def endpoint(
        case_id: CaseId,
        uow: UowDep,
        clock: ClockDep,
        actor: CurrentActor,
        settings: SettingsDep,
        body: Any = None,
    ) -> CaseOut:
        # A body-less POST is fine for actions whose fields are all optional.
        cmd = body if body is not None else schema.model_validate({})
        case = service.act(uow, clock, actor, case_id, action, cmd, settings.tz)
        return queries.case_out(uow.session, actor, case, clock.now())

    # Give FastAPI (and so OpenAPI) this action's own body schema: required when the action
    # has required fields, optional (a body-less POST) when it has none.
    required = any(f.is_required() for f in schema.model_fields.values())
    body = Annotated[schema, Body()] if required else Annotated[schema | None, Body()]
    default = inspect.Parameter.empty if required else None
    sig = inspect.signature(endpoint)
    params = [
        p.replace(annotation=body, default=default) if p.name == "body" else p
        for p in sig.parameters.values()
    ]
    endpoint.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    endpoint.__name__ = f"case_{action.value}"
    return endpoint


for _name, _schema in ACTION_SCHEMAS.items():
    router.add_api_route(
        f"/{{case_id}}/{_name}",
        _action_route(Action(_name), _schema),
        methods=["POST"],
        response_model=CaseOut,
        name=f"case_{_name}",
        summary=_name.replace("_", " "),
    )
