"""POST requests: an Open311 submission becomes a case, registered through the one use case
every channel uses, at most once per identical retry (DESIGN §9)."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.cases.models import Case
from jiesu.cases.registration import Registration, register_cases
from jiesu.cases.schemas import RegisterIn
from jiesu.cases.workflow import Role
from jiesu.clock import Clock
from jiesu.errors import InvalidInput
from jiesu.intake import idempotency
from jiesu.open311 import services
from jiesu.open311.models import Open311Request
from jiesu.units.models import Unit
from jiesu.uow import UnitOfWork

MAX_DESCRIPTION = 4000
# An identical submission from the same client within this window is a retry, not a new
# report (issue 4); after it, the same words are a new request.
RETRY_WINDOW = timedelta(minutes=10)
# Every Open311 request is a citizen asking the city to act: 求助 in our request types.
REQUEST_TYPE = "help"
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,50})\](\[\])?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Fields the spec defines for POST; anything else is refused so a typo is not silently lost.
_FIELDS = {
    "api_key": 200,
    "jurisdiction_id": 100,
    "service_code": 32,
    "lat": 40,
    "long": 40,
    "address_string": 500,
    "address_id": 100,
    "zipcode": 20,
    "email": 200,
    "device_id": 100,
    "account_id": 100,
    "first_name": 50,
    "last_name": 50,
    "phone": 32,
    "description": MAX_DESCRIPTION,
    "media_url": 1000,
}


@dataclass(frozen=True)
class Submitted:
    case_id: int
    token: str
    account_id: str
    replayed: bool


@dataclass(frozen=True)
class _Form:
    fields: dict[str, str]
    attributes: dict[str, list[str]]


def _parse(pairs: list[tuple[str, str]]) -> _Form:
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for name, value in pairs:
        if _CONTROL.search(value):
            raise InvalidInput(f"{name[:60]}: control characters are not allowed")
        m = _ATTRIBUTE.match(name)
        if m:
            attributes.setdefault(m.group(1), []).append(value)
            continue
        if name not in _FIELDS:
            raise InvalidInput(f"{name[:60]}: not a GeoReport v2 request field")
        value = value.strip()
        if len(value) > _FIELDS[name]:
            raise InvalidInput.of("max_chars", field=name, limit=_FIELDS[name])
        fields[name] = value
    return _Form(fields, attributes)


def _coordinate(value: str, name: str, bound: float) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > bound:
        raise InvalidInput(f"{name}: '{value[:40]}' is not a WGS-84 coordinate in ±{bound:g}")
    return number


def _location(f: dict[str, str]) -> tuple[float | None, float | None]:
    lat, lon = f.get("lat", ""), f.get("long", "")
    if bool(lat) != bool(lon):
        raise InvalidInput("lat and long: give both, or neither")
    if not (lat or f.get("address_string") or f.get("address_id")):
        raise InvalidInput("location: give lat and long, address_string or address_id")
    if not lat:
        return None, None
    return _coordinate(lat, "lat", 90), _coordinate(lon, "long", 180)


def _district(session: Session, lat: float | None, lon: float | None) -> str | None:
    if lat is None or lon is None:
        return None
    try:
        # Written alongside this module; a build without it still takes the request.
        from jiesu.triage.geo import district_at

        code = district_at(lat, lon)
    except Exception:  # the district is a hint: the request must not fail on it
        return None
    unit = session.get(Unit, code) if code else None
    return code if unit is not None and unit.active and unit.kind == "district" else None


def _citizen_name(first: str, last: str) -> str:
    # Chinese names read family name first, with no space; others "First Last".
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _check_contact(f: dict[str, str]) -> None:
    email = f.get("email", "")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(f"email: '{email[:60]}' is not an e-mail address")
    media = f.get("media_url", "")
    if media and not re.match(r"^https?://\S+$", media):
        raise InvalidInput("media_url: give an http(s) URL")


def submit_request(
    uow: UnitOfWork, clock: Clock, client: str, pairs: list[tuple[str, str]]
) -> Submitted:
    session = uow.session
    form = _parse(pairs)
    f = form.fields
    code = f.get("service_code", "")
    if not code:
        raise InvalidInput("service_code: required; see services.json")
    service = services.get_service(session, code)
    answers = services.validate_attributes(
        services.attributes_for(session, code), form.attributes, code
    )
    lat, lon = _location(f)
    _check_contact(f)
    description = f.get("description", "")
    text = description or f"（Open311 未填写描述）{service.description}"
    try:
        cmd = RegisterIn(
            text=text,
            request_type=REQUEST_TYPE,
            category=code,
            address=f.get("address_string", ""),
            district=_district(session, lat, lon),
            lat=lat,
            lon=lon,
            channel="open311",
            citizen={
                "name": _citizen_name(f.get("first_name", ""), f.get("last_name", "")),
                "phone": f.get("phone", ""),
            },
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{where.replace('citizen.', '')}: {first['msg']}") from exc
    token = secrets.token_urlsafe(16)

    def record(sess: Session, case: Case) -> None:
        sess.add(
            Open311Request(
                case_id=case.id,
                client=client,
                token=token,
                account_id=f.get("account_id", ""),
                device_id=f.get("device_id", ""),
                email=f.get("email", ""),
                address_id=f.get("address_id", ""),
                zipcode=f.get("zipcode", ""),
                media_url=f.get("media_url", ""),
                attributes=answers,
            )
        )

    # The normalised payload is the key: field order, spacing and the key itself never make
    # two submissions differ.
    normalised = sorted((k, v) for k, v in f.items() if k not in ("api_key", "jurisdiction_id"))
    normalised += sorted((f"attribute[{k}]", str(v)) for k, v in answers.items())
    digest = idempotency.body_hash(normalised)
    actor = Actor(f"open311:{client}", Role.CITIZEN)
    key = idempotency.Key(digest, digest, fresh_for=RETRY_WINDOW)
    (outcome,) = register_cases(uow, clock, [Registration(actor, cmd, key, also=record)])
    if isinstance(outcome, Exception):
        raise outcome
    case_id = outcome.case.id
    row = session.get(Open311Request, case_id)
    return Submitted(
        case_id=case_id,
        token=row.token if row is not None else token,
        account_id=row.account_id if row is not None else "",
        replayed=outcome.replayed,
    )


def case_for_token(session: Session, token: str) -> int | None:
    return session.scalar(select(Open311Request.case_id).where(Open311Request.token == token))
