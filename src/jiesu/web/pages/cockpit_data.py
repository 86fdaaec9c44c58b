"""Small cockpit figures read straight from the operational tables; the rates and rankings
come from jiesu.assessment (cockpit_summary.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiesu.cases.models import Case


def months_back(now: datetime, tz: ZoneInfo, n: int) -> list[str]:
    local = now.astimezone(tz)
    y, m = local.year, local.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def volume(session: Session, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count(Case.id)).where(Case.created_at >= start, Case.created_at < end)
        )
        or 0
    )
