"""GET requests: the public view of cases. Status is only open/closed; our detail is behind
`extensions`; no personal data ever (DESIGN §9: no name, phone, e-mail or device id).

Two views. The public one (no api_key): the text redacted and without building/unit/room, the
address at road or compound level, coordinates rounded to about 100 m. A key with the
read_private scope: the redacted text and the address as given, exact coordinates. Neither ever
shows the citizen's name, phone or e-mail (privacy/redact.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.workflow import FINISHED, OPEN, Status, values
from jiesu.errors import InvalidInput, NotFound
from jiesu.inputs import whole_number
from jiesu.open311.models import Open311Request
from jiesu.open311.services import parse_w3c
from jiesu.privacy.redact import (
    public_address,
    public_coordinate,
    public_text,
    redact,
    redact_value,
)
from jiesu.sla.service import compute_dues
from jiesu.units.models import Category, Unit

MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
STATUS_NOTES = {
    "registered": "已受理，等待派单。",
    "answered": "已直接答复办结。",
    "dispatched": "已派至承办单位。",
    "acknowledged": "承办单位已签收，正在办理。",
    "returned": "正在复核承办单位。",
    "replied": "承办单位已办结反馈，等待回访。",
    "closed": "已回访，办结。",
    "merged": "与相同诉求合并办理。",
    "terminated": "已终止办理。",
}


@dataclass(frozen=True)
class Filters:
    ids: list[int] | None
    service_codes: list[str]
    start: datetime
    end: datetime
    statuses: set[str]
    page: int
    page_size: int


def _ints(value: str, name: str) -> list[int]:
    out = []
    for part in value.split(","):
        part = part.strip()
        number = whole_number(part)
        if number is None:
            raise InvalidInput(f"{name}: '{part[:30]}' is not a request id")
        out.append(number)
    if len(out) > MAX_RESULTS:
        raise InvalidInput.of("max_ids", field=name, limit=MAX_RESULTS)
    return out


def _positive(value: str | None, name: str, default: int, top: int) -> int:
    if value is None or value == "":
        return default
    number = whole_number(value, low=1, high=top)
    if number is None:
        raise InvalidInput.of("whole_number", field=name, low=1, high=top)
    return number


def parse_filters(params: dict[str, str], now: datetime) -> Filters:
    ids = params.get("service_request_id")
    start_s, end_s = params.get("start_date"), params.get("end_date")
    start = parse_w3c(start_s, "start_date") if start_s else None
    end = parse_w3c(end_s, "end_date") if end_s else None
    # The spec's default is the most recent 90 days; one given bound opens a 90-day window.
    if start is None and end is None:
        end = now
    if end is None:
        assert start is not None
        end = start + MAX_SPAN
    if start is None:
        start = end - MAX_SPAN
    if end < start:
        raise InvalidInput("end_date: must not be before start_date")
    if end - start > MAX_SPAN:
        raise InvalidInput("start_date/end_date: the range may not span more than 90 days")
    statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise InvalidInput("status: open, closed, or both comma-separated")
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    return Filters(
        ids=_ints(ids, "service_request_id") if ids else None,
        service_codes=codes,
        start=start,
        end=end,
        statuses=statuses,
        page=_positive(params.get("page"), "page", 1, 1_000_000),
        page_size=_positive(params.get("page_size"), "page_size", MAX_RESULTS, MAX_RESULTS),
    )


def _query(f: Filters) -> Select[Case, Open311Request]:
    stmt = select(Case, Open311Request).outerjoin(Open311Request, Open311Request.case_id == Case.id)
    if f.ids is not None:
        # The spec: a list of ids overrides every other filter.
        return stmt.where(Case.id.in_(f.ids)).order_by(Case.id)
    stmt = stmt.where(Case.created_at >= f.start, Case.created_at <= f.end)
    if f.service_codes:
        stmt = stmt.where(Case.category.in_(f.service_codes))
    if f.statuses == {"open"}:
        stmt = stmt.where(Case.status.in_(values(OPEN)))
    elif f.statuses == {"closed"}:
        stmt = stmt.where(Case.status.in_(values(FINISHED)))
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc())
    return stmt.offset((f.page - 1) * f.page_size).limit(f.page_size)


def notice(expected: datetime | None, tz: ZoneInfo) -> str:
    if expected is None:
        return "诉求已受理。"
    return f"诉求已受理，预计 {expected.astimezone(tz):%Y-%m-%d %H:%M} 前答复。"


def w3c(stamp: datetime | None, tz: ZoneInfo) -> str | None:
    return stamp.astimezone(tz).isoformat(timespec="seconds") if stamp else None


class _Lookup:
    """Names and counts for a page of cases, read in a few queries rather than one per case."""

    def __init__(self, session: Session, cases: list[Case]) -> None:
        units = {c.lead_unit for c in cases if c.lead_unit}
        self.units = dict(
            session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(units))).all()
        )
        self.categories = dict(session.execute(select(Category.code, Category.name)).all())
        self.parents = dict(session.execute(select(Category.code, Category.parent_code)).all())
        ids = [c.id for c in cases]
        self.events = dict(
            session.execute(
                select(CaseEvent.case_id, func.count())
                .where(CaseEvent.case_id.in_(ids))
                .group_by(CaseEvent.case_id)
            ).all()
        )

    def path(self, code: str | None) -> list[str]:
        out: list[str] = []
        while code and code in self.categories and len(out) < 10:
            out.insert(0, self.categories[code])
            code = self.parents.get(code)
        return out


def _expected(session: Session, case: Case, now: datetime, tz: ZoneInfo) -> datetime | None:
    if case.reply_due is not None:
        return case.reply_due
    if case.status != Status.REGISTERED:
        return None
    # Not dispatched yet: what the time-limit engine would give if it were dispatched now.
    dues = compute_dues(
        session,
        request_type=case.request_type,
        category=case.category,
        urgency=case.urgency,
        start=now,
        tz=tz,
    )
    return dues.reply_due


def _public(
    session: Session,
    look: _Lookup,
    case: Case,
    extra: Open311Request | None,
    now: datetime,
    tz: ZoneInfo,
    extensions: bool,
    private: bool,
) -> dict[str, Any]:
    expected = _expected(session, case, now, tz)
    # Citizens write their own name, number and e-mail into the text, too.
    known = (case.citizen_name, case.citizen_phone, extra.email if extra else "")
    out: dict[str, Any] = {
        "service_request_id": str(case.id),
        "status": "closed" if case.status in FINISHED else "open",
        "status_notes": STATUS_NOTES.get(case.status, ""),
        "service_name": look.categories.get(case.category or "", ""),
        "service_code": case.category or "",
        "description": redact(case.text, known) if private else public_text(case.text, known),
        "agency_responsible": look.units.get(case.lead_unit or "", ""),
        "service_notice": notice(expected, tz) if case.status == Status.REGISTERED else "",
        "requested_datetime": w3c(case.created_at, tz),
        "updated_datetime": w3c(case.updated_at, tz),
        "expected_datetime": w3c(expected, tz),
        "address": redact(case.address, known) if private else public_address(case.address),
        # A client's address id names one dwelling as surely as its room number does.
        "address_id": extra.address_id if extra and private else "",
        "zipcode": extra.zipcode if extra else "",
        "lat": case.lat if private else public_coordinate(case.lat),
        "long": case.lon if private else public_coordinate(case.lon),
        "media_url": extra.media_url if extra else "",
    }
    if extensions:
        out["extensions"] = {
            "jiesu_status": case.status,
            "category_path": look.path(case.category),
            "request_type": case.request_type,
            "urgency": case.urgency,
            "channel": case.channel,
            "district": case.district or "",
            "street": case.street or "",
            "events": look.events.get(case.id, 0),
            "reopen_count": case.reopen_count,
            "merged_into": str(case.master_case_id) if case.master_case_id else "",
            "attributes": redact_value(extra.attributes, known) if extra else {},
        }
    return out


def find_requests(
    session: Session,
    f: Filters,
    now: datetime,
    tz: ZoneInfo,
    extensions: bool,
    private: bool = False,
) -> list[dict[str, Any]]:
    rows = session.execute(_query(f)).all()
    look = _Lookup(session, [c for c, _ in rows])
    return [_public(session, look, c, x, now, tz, extensions, private) for c, x in rows]


def get_request(
    session: Session,
    case_id: int,
    now: datetime,
    tz: ZoneInfo,
    extensions: bool,
    private: bool = False,
) -> dict[str, Any]:
    row = session.execute(
        select(Case, Open311Request)
        .outerjoin(Open311Request, Open311Request.case_id == Case.id)
        .where(Case.id == case_id)
    ).first()
    if row is None:
        raise NotFound(f"service_request_id {case_id} not found")
    case, extra = row
    return _public(session, _Lookup(session, [case]), case, extra, now, tz, extensions, private)
