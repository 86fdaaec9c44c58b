"""POST /api/v1/triage: the proposal an agent sees while registering a call."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from jiesu.auth.permissions import Capability, require
from jiesu.triage.service import propose
from jiesu.web.deps import ClockDep, CurrentActor, UowDep
from jiesu.web.responses import errors

router = APIRouter(tags=["triage"], responses=errors(400, 401, 403, 422))


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=10000)
    address: str | None = Field(None, max_length=500)
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    datum: Literal["wgs84", "gcj02"] = "wgs84"


@router.post("/triage")
def triage(body: TriageIn, uow: UowDep, clock: ClockDep, actor: CurrentActor) -> dict[str, Any]:
    require(actor, Capability.TRIAGE)
    started = time.perf_counter()
    result = propose(
        uow.session, clock.now(), body.text, body.address, body.lat, body.lon, body.datum
    ).to_dict()
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result
