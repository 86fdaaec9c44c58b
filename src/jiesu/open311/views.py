"""HTTP for Open311 GeoReport v2 under /open311/v2, and the admin API for its api_keys.

Open311 answers in its own error contract (a list of {code, description}; 404 unknown
service/request/token, 403 missing or bad api_key, 400 otherwise), so these routes read their
parameters themselves and turn domain errors into that body here, rather than in the JSON
API's handler. An unknown format extension is 404: `services.csv` names no resource we have.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from jiesu.auth.permissions import Capability, require
from jiesu.errors import DomainError, InvalidInput, NotFound
from jiesu.inputs import Input, whole_number
from jiesu.open311 import keys, queries, serialise, service, services
from jiesu.web.deps import ClockDep, CurrentActor, SettingsDep, UowDep
from jiesu.web.responses import errors

MAX_BODY = 64 * 1024
MAX_FIELDS = 200
CHANGESET = "2026-11-22T00:00:00+08:00"


class Open311Error(BaseModel):
    code: int
    description: str


# GeoReport v2 answers in the format the path names (.json or .xml), errors included, as a
# list of {code, description}; a request the database cannot serve gets the API's 503 body.
_BOTH: dict[str, Any] = {"text/xml": {"schema": {"type": "string"}}}
GEOREPORT: dict[int | str, dict[str, Any]] = {
    **errors(),
    200: {"content": _BOTH},
    **{
        s: {"model": list[Open311Error], "description": d, "content": _BOTH}
        for s, d in (
            (400, "The request is invalid (the error names the field)."),
            (403, "The api_key is missing, unknown or revoked."),
            (404, "No such resource, or an unknown format (.json and .xml are known)."),
        )
    },
}
georeport = APIRouter(prefix="/open311/v2", tags=["open311"], responses=GEOREPORT)
admin = APIRouter(
    prefix="/api/v1/admin/open311",
    tags=["open311 admin"],
    responses=errors(400, 401, 403, 404, 409, 422),
)
router = APIRouter()


def _answer(fmt: str, build: Callable[[], Response]) -> Response:
    if fmt not in serialise.FORMATS:
        return serialise.error("json", 404, f"unknown format '.{fmt[:20]}': use .xml or .json")
    try:
        return build()
    except DomainError as exc:
        code = 404 if exc.status_code == 404 else 403 if exc.status_code in (401, 403) else 400
        return serialise.error(fmt, code, exc.message)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1", "yes")


@georeport.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str) -> Response:
    url = str(request.base_url).rstrip("/") + "/open311/v2"
    body = {
        "changeset": CHANGESET,
        "contact": "12345 市民服务热线",
        "key_service": "api_key 由热线管理员发放：jiesu open311 key create --client NAME",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(fmt, lambda: serialise.render(fmt, "discovery", body))


@georeport.get("/services.{fmt}")
def list_services(fmt: str, uow: UowDep) -> Response:
    def build() -> Response:
        rows = [
            {
                "service_code": s.code,
                "service_name": s.name,
                "description": s.description,
                "metadata": s.metadata,
                "type": "realtime",
                "keywords": ", ".join(s.keywords),
                "group": s.group,
            }
            for s in services.list_services(uow.session)
        ]
        return serialise.render(fmt, "services", rows)

    return _answer(fmt, build)


@georeport.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, uow: UowDep) -> Response:
    def build() -> Response:
        attributes = services.attributes_for(uow.session, code)
        body = {
            "service_code": code,
            "attributes": [
                {
                    "variable": a.variable,
                    "code": a.code,
                    "datatype": a.datatype,
                    "required": a.required,
                    "datatype_description": a.datatype_description,
                    "order": a.order,
                    "description": a.description,
                    "values": a.values,
                }
                for a in attributes
            ],
        }
        return serialise.render(fmt, "service_definition", body)

    return _answer(fmt, build)


async def form_pairs(request: Request) -> list[tuple[str, str]] | InvalidInput:
    """The POST form, read before the sync handler runs; a bad body becomes a 400 there."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        try:
            form = await request.form(max_files=0, max_fields=MAX_FIELDS)
        except Exception:  # any malformed multipart body is the client's 400
            return InvalidInput("the multipart body could not be read; send form fields only")
        if any(not isinstance(v, str) for _, v in form.multi_items()):
            return InvalidInput("files are not accepted; send media_url")
        return [(k, str(v)) for k, v in form.multi_items()]
    if kind not in ("application/x-www-form-urlencoded", ""):
        return InvalidInput("send the request as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_BODY:
        return InvalidInput(f"the request body is over {MAX_BODY // 1024} KiB")
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        return InvalidInput("the form is not valid UTF-8 form encoding")


@georeport.post("/requests.{fmt}")
def post_request(
    fmt: str,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
    pairs: Annotated[list[tuple[str, str]] | InvalidInput, Depends(form_pairs)],
) -> Response:
    def build() -> Response:
        if isinstance(pairs, InvalidInput):
            raise pairs
        api_key = next((v for k, v in pairs if k == "api_key"), None)
        client = keys.client_for_key(uow.session, api_key)
        done = service.submit_request(uow, clock, client, pairs)
        # Read back after the commit: the answer only ever names a stored request.
        detail = queries.get_request(uow.session, done.case_id, clock.now(), settings.tz, False)
        row = {
            "service_request_id": str(done.case_id),
            "token": done.token,
            "service_notice": queries.notice(
                _parse_optional(detail["expected_datetime"]), settings.tz
            ),
            "account_id": done.account_id,
        }
        code = status.HTTP_200_OK if done.replayed else status.HTTP_201_CREATED
        return serialise.render(fmt, "service_requests", [row], code)

    return _answer(fmt, build)


def _parse_optional(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


@georeport.get("/requests.{fmt}")
def get_requests(
    request: Request, fmt: str, uow: UowDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    def build() -> Response:
        now = clock.now()
        filters = queries.parse_filters(dict(request.query_params), now)
        rows = queries.find_requests(
            uow.session,
            filters,
            now,
            settings.tz,
            _flag(request, "extensions"),
            keys.reads_private(uow.session, request.query_params.get("api_key")),
        )
        return serialise.render(fmt, "service_requests", rows)

    return _answer(fmt, build)


def _case_id(value: str) -> int:
    # Case ids are INTEGER: a bigger number must be "not found", not a PostgreSQL error.
    number = whole_number(value)
    if number is None:
        raise NotFound(f"service_request_id '{value[:30]}' not found")
    return number


@georeport.get("/requests/{request_id}.{fmt}")
def get_request(
    request: Request,
    request_id: str,
    fmt: str,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    def build() -> Response:
        row = queries.get_request(
            uow.session,
            _case_id(request_id),
            clock.now(),
            settings.tz,
            _flag(request, "extensions"),
            keys.reads_private(uow.session, request.query_params.get("api_key")),
        )
        return serialise.render(fmt, "service_requests", [row])

    return _answer(fmt, build)


@georeport.get("/tokens/{token}.{fmt}")
def get_token(token: str, fmt: str, uow: UowDep) -> Response:
    def build() -> Response:
        case_id = service.case_for_token(uow.session, token)
        if case_id is None:
            raise NotFound(f"token '{token[:40]}' not found")
        row = {"service_request_id": str(case_id), "token": token}
        return serialise.render(fmt, "service_requests", [row])

    return _answer(fmt, build)


@georeport.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def unknown(rest: str) -> Response:
    fmt = rest.rsplit(".", 1)[-1] if "." in rest else "json"
    return serialise.error(fmt, 404, f"no Open311 resource at /open311/v2/{rest[:80]}")


class ClientIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # check_client_name refuses other names with its own message; the pattern is documented.
    client: str = Field(
        min_length=1, max_length=64, json_schema_extra={"pattern": keys.CLIENT_NAME.pattern}
    )
    scopes: list[str] = Field(default_factory=list, max_length=10)


class ClientOut(BaseModel):
    client: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool
    scopes: list[str]


class NewKeyOut(BaseModel):
    client: str
    api_key: str = Field(description="shown only this once; store it in the client")


def _out(info: keys.ClientInfo) -> ClientOut:
    return ClientOut(**{**info.__dict__, "active": info.active, "scopes": list(info.scopes)})


@admin.post("/keys", response_model=NewKeyOut, status_code=status.HTTP_201_CREATED)
def create_key(body: ClientIn, uow: UowDep, clock: ClockDep, actor: CurrentActor) -> Any:
    require(actor, Capability.ADMINISTER)
    key = keys.create_key(uow.session, body.client, clock.now(), body.scopes)
    uow.commit()
    return NewKeyOut(client=body.client, api_key=key)


@admin.delete("/keys/{client}", response_model=ClientOut)
def revoke_key(client: str, uow: UowDep, clock: ClockDep, actor: CurrentActor) -> Any:
    require(actor, Capability.ADMINISTER)
    info = keys.revoke_key(uow.session, client, clock.now())
    uow.commit()
    return _out(info)


@admin.get("/keys", response_model=list[ClientOut])
def list_keys(uow: UowDep, actor: CurrentActor) -> Any:
    require(actor, Capability.ADMINISTER)
    return [_out(i) for i in keys.list_clients(uow.session)]


router.include_router(georeport)
router.include_router(admin)
