"""JSON API of proactive governance (主动治理) for the leader, analyst and admin dashboards."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from jiesu.assessment.service import load_policies
from jiesu.auth.permissions import Capability, require
from jiesu.governance import service
from jiesu.governance.forecast import METHODS
from jiesu.governance.spatial import LEVELS, RESOLUTIONS
from jiesu.inputs import Input
from jiesu.web.deps import CurrentActor, MonthPath, SettingsDep, UowDep, one_of
from jiesu.web.responses import errors

router = APIRouter(
    prefix="/governance", tags=["governance"], responses=errors(400, 401, 403, 404, 422)
)
# What spatial.check_prefix accepts, documented.
DIGITS_12 = {"pattern": "^[0-9]{0,12}$"}


@router.get("/topics/{month}")
def month_topics(
    month: MonthPath,
    actor: CurrentActor,
    settings: SettingsDep,
    top: Annotated[int, Query(ge=1, le=service.MAX_TOP)] = 10,
) -> dict[str, Any]:
    """热点问题: the month's hottest topics from the analytics lake, with heat and evidence."""
    require(actor, Capability.READ_GOVERNANCE)
    return service.month_topics(Path(settings.lake_dir), month, top)


@router.get("/livelihood/{month}")
def livelihood(
    month: MonthPath, actor: CurrentActor, settings: SettingsDep, uow: UowDep
) -> dict[str, Any]:
    """七有五性: volume, share and the three rates per livelihood dimension for a month."""
    require(actor, Capability.READ_GOVERNANCE)
    return service.livelihood(Path(settings.lake_dir), month, uow.session)


@router.get("/spatial/{month}")
def spatial(
    month: MonthPath,
    actor: CurrentActor,
    settings: SettingsDep,
    category: Annotated[
        str | None,
        Query(description="category code prefix, e.g. 17", json_schema_extra=DIGITS_12),
    ] = None,
    level: Annotated[str, Query(json_schema_extra=one_of(LEVELS))] = "h3",
    resolution: Annotated[
        int, Query(description="H3 resolution", json_schema_extra=one_of(RESOLUTIONS))
    ] = 8,
    baseline: Annotated[int, Query(ge=2, le=24)] = 6,
    q: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    top: Annotated[int, Query(ge=1, le=service.MAX_TOP)] = 100,
) -> dict[str, Any]:
    """空间热点: H3 cells or streets above their own baseline (Poisson/NB test, BH FDR)."""
    require(actor, Capability.READ_GOVERNANCE)
    return service.spatial(
        Path(settings.lake_dir),
        month,
        category=category,
        level=level,
        resolution=resolution,
        baseline=baseline,
        q=q,
        top=top,
    )


@router.get("/surges")
def surges(
    actor: CurrentActor,
    settings: SettingsDep,
    week: Annotated[date | None, Query(description="a day of the week to check")] = None,
    method: Annotated[str, Query(json_schema_extra=one_of(METHODS))] = "snaive_drift",
    min_cases: Annotated[int, Query(ge=1, le=10_000)] = 10,
) -> dict[str, Any]:
    """突增预警: category × district series whose week is above its forecast interval."""
    from jiesu.governance.surges import surges as find

    require(actor, Capability.READ_GOVERNANCE)
    return service.lake_call(
        find, Path(settings.lake_dir), settings.tz, week=week, method=method, min_cases=min_cases
    )


@router.get("/forecast")
def forecast(
    actor: CurrentActor,
    settings: SettingsDep,
    category: Annotated[str | None, Query(description="level-1 category code")] = None,
    district: Annotated[str | None, Query(description="district code")] = None,
    horizon: Annotated[int, Query(ge=1, le=12)] = 8,
    method: Annotated[str, Query(json_schema_extra=one_of(METHODS))] = "snaive_drift",
) -> dict[str, Any]:
    """预测: weekly volume per category × district for the next weeks, with 95% intervals."""
    from jiesu.governance.forecast import forecast as run

    require(actor, Capability.READ_GOVERNANCE)
    return service.lake_call(
        run,
        Path(settings.lake_dir),
        settings.tz,
        horizon=horizon,
        method=method,
        category=category,
        district=district,
    )


@router.get("/candidates/{month}")
def candidates(
    month: MonthPath,
    actor: CurrentActor,
    settings: SettingsDep,
    uow: UowDep,
    top: Annotated[int, Query(ge=1, le=service.MAX_TOP)] = 20,
) -> dict[str, Any]:
    """每月一题候选: problems ranked by volume, breadth, persistence, repeats and low rates."""
    from jiesu.governance.candidates import monthly_candidates

    require(actor, Capability.READ_GOVERNANCE)
    policies = load_policies(uow.session)
    lake = Path(settings.lake_dir)
    return service.lake_call(monthly_candidates, lake, month, top=top, policies=policies)


class ReplyQualityIn(Input):
    request: str = Field(min_length=1, max_length=20_000, description="诉求内容")
    reply: str = Field(min_length=1, max_length=20_000, description="答复意见")
    requested_at: datetime | None = Field(default=None, description="诉求时间, with zone")
    replied_at: datetime | None = Field(default=None, description="答复时间, with zone")


@router.post("/reply-quality")
def reply_quality(body: ReplyQualityIn, actor: CurrentActor) -> dict[str, Any]:
    """答复质量: relevance, completeness and timeliness of one reply, with the reasons."""
    require(actor, Capability.ASSESS_REPLY_QUALITY)
    return service.reply_quality(body.request, body.reply, body.requested_at, body.replied_at)
