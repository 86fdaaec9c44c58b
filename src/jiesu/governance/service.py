"""Use cases of governance shared by the CLI and the JSON API: each returns a plain dict."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.assessment.service import load_policies
from jiesu.errors import InvalidInput
from jiesu.governance.inputs import messages_from_lake
from jiesu.governance.livelihood import livelihood_month
from jiesu.governance.reply_quality import assess_reply
from jiesu.governance.topics import Message, hot_topics

TOPIC_COLUMNS = (
    "rank",
    "heat",
    "place",
    "admin_place",
    "description",
    "affected_group",
    "time_range",
    "keywords",
    "message_ids",
)
LIVELIHOOD_COLUMNS = (
    "dimension",
    "cases",
    "share",
    "assessed",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
)
MAX_TOP = 500
SURGE_COLUMNS = (
    "category", "category_name", "district", "district_name", "week",
    "actual", "forecast", "lower", "upper", "ratio",
)  # fmt: skip
FORECAST_COLUMNS = (
    "category", "category_name", "district", "district_name", "week", "forecast", "lower", "upper",
)  # fmt: skip
BACKTEST_COLUMNS = ("method", "mase", "smape", "coverage", "mase_vs_snaive")
CANDIDATE_COLUMNS = (
    "rank", "score", "category", "name", "parent", "cases", "districts", "months_present",
    "repeat_share", "resolution_rate", "satisfaction_rate", "evidence",
)  # fmt: skip
SPATIAL_COLUMNS = (
    "area",
    "name",
    "district",
    "lat",
    "lon",
    "observed",
    "expected",
    "ratio",
    "p",
    "q",
)


def topics_body(messages: list[Message], top: int, **meta: Any) -> dict[str, Any]:
    if not 1 <= top <= MAX_TOP:
        raise InvalidInput(f"top must be between 1 and {MAX_TOP}, not {top}")
    topics = hot_topics(messages, top=top)
    return {"messages": len(messages), **meta, "topics": [t.as_dict() for t in topics]}


def month_topics(lake: Path, month: str, top: int) -> dict[str, Any]:
    try:
        messages = messages_from_lake(lake, month)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    return topics_body(messages, top, month=month, source="lake")


def dimension_map(session: Session) -> dict[str, str]:
    from jiesu.units.models import Category

    rows = session.execute(select(Category.code, Category.livelihood_dimension)).all()
    if rows:
        return {code: dim for code, dim in rows if dim}
    from jiesu.units.catalog import load_categories

    return {c.code: c.livelihood_dimension for c in load_categories() if c.livelihood_dimension}


def livelihood(lake: Path, month: str, session: Session) -> dict[str, Any]:
    try:
        policies = load_policies(session)
        return livelihood_month(lake, month, dimension_map(session), policies)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def reply_quality(
    request: str,
    reply: str,
    requested_at: datetime | None,
    replied_at: datetime | None,
) -> dict[str, Any]:
    for name, at in (("requested_at", requested_at), ("replied_at", replied_at)):
        if at is not None and at.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone, e.g. 2026-11-02T09:30:00+08:00")
    try:
        return assess_reply(
            request, reply, requested_at=requested_at, replied_at=replied_at
        ).as_dict()
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def spatial(lake: Path, month: str, **options: Any) -> dict[str, Any]:
    """空间热点: areas significantly above their own baseline (governance/spatial.py)."""
    from jiesu.governance.spatial import spatial_hotspots

    try:
        return spatial_hotspots(lake, month, **options)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def lake_call(fn: Any, *args: Any, **options: Any) -> dict[str, Any]:
    """Run a lake computation; a ValueError from the lake layer is the caller's bad input."""
    try:
        result: dict[str, Any] = fn(*args, **options)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    return result
