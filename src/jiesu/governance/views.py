"""JSON API of proactive governance (主动治理) for the leader, analyst and admin dashboards."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from jiesu.cases.workflow import Role
from jiesu.governance import service
from jiesu.web.deps import CurrentActor, SettingsDep, UowDep, require

router = APIRouter(prefix="/governance", tags=["governance"])
READERS = (Role.LEADER, Role.ANALYST, Role.ADMIN)
# The callback agent sees reply quality while calling the citizen back; the dispatcher while
# reviewing a unit's reply.
REPLY_READERS = (*READERS, Role.CALLBACK, Role.DISPATCHER)


@router.get("/topics/{month}")
def month_topics(
    month: str,
    actor: CurrentActor,
    settings: SettingsDep,
    top: Annotated[int, Query(ge=1, le=service.MAX_TOP)] = 10,
) -> dict[str, Any]:
    """热点问题: the month's hottest topics from the analytics lake, with heat and evidence."""
    require(actor, *READERS)
    return service.month_topics(Path(settings.lake_dir), month, top)


@router.get("/livelihood/{month}")
def livelihood(
    month: str, actor: CurrentActor, settings: SettingsDep, uow: UowDep
) -> dict[str, Any]:
    """七有五性: volume, share and the three rates per livelihood dimension for a month."""
    require(actor, *READERS)
    return service.livelihood(Path(settings.lake_dir), month, uow.session)


class ReplyQualityIn(BaseModel):
    request: str = Field(min_length=1, max_length=20_000, description="诉求内容")
    reply: str = Field(min_length=1, max_length=20_000, description="答复意见")
    requested_at: datetime | None = Field(default=None, description="诉求时间, with zone")
    replied_at: datetime | None = Field(default=None, description="答复时间, with zone")


@router.post("/reply-quality")
def reply_quality(body: ReplyQualityIn, actor: CurrentActor) -> dict[str, Any]:
    """答复质量: relevance, completeness and timeliness of one reply, with the reasons."""
    require(actor, *REPLY_READERS)
    return service.reply_quality(body.request, body.reply, body.requested_at, body.replied_at)
