"""POST /api/v1/cases/{id}/reveal and the access log a leader or admin reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from jiesu.audit.models import AccessLog
from jiesu.audit.reveal import reveal_citizen
from jiesu.auth.permissions import Capability, require
from jiesu.inputs import Input
from jiesu.web.deps import ClockDep, CurrentActor, UowDep
from jiesu.web.responses import errors

router = APIRouter(tags=["audit"], responses=errors(400, 401, 403, 404, 422))


class RevealIn(Input):
    reason: str = Field(min_length=1, max_length=1000, description="why the data is needed")


class CitizenOut(BaseModel):
    name: str
    phone: str


class RevealOut(BaseModel):
    case_id: int
    citizen: CitizenOut
    logged_at: datetime


class AccessOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    unit: str | None
    case_id: int
    fields: str
    reason: str


@router.post("/cases/{case_id}/reveal", response_model=RevealOut)
def reveal(
    case_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: RevealIn,
    uow: UowDep,
    clock: ClockDep,
    actor: CurrentActor,
) -> RevealOut:
    shown = reveal_citizen(uow.session, actor, case_id, body.reason, clock.now())
    # Committed before the data leaves: no unmasking without its record.
    uow.commit()
    return RevealOut(
        case_id=shown.case_id,
        citizen=CitizenOut(name=shown.name, phone=shown.phone),
        logged_at=shown.logged_at,
    )


@router.get("/audit/access-log", response_model=list[AccessOut])
def access_log(
    uow: UowDep,
    actor: CurrentActor,
    case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AccessOut]:
    require(actor, Capability.READ_ACCESS_LOG)
    q = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if case_id is not None:
        q = q.where(AccessLog.case_id == case_id)
    return [
        AccessOut(
            id=r.id,
            at=r.at,
            actor=r.actor,
            role=r.role,
            unit=r.unit_code,
            case_id=r.case_id,
            fields=r.fields,
            reason=r.reason,
        )
        for r in uow.session.scalars(q)
    ]
