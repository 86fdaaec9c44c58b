"""The leader cockpit's figures, by SQL over the operational tables (one GROUP BY each).

Rates follow DESIGN §6 over the callbacks recorded in a month (not excluded): response =
contacted before the contact due time and the citizen did not deny it; resolution = solved
"yes"; satisfaction = satisfied + 0.6 × basically. Once jiesu.assessment publishes monthly
snapshots the cockpit should read those instead; the definitions are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from jiesu.cases.models import Callback, Case

BASICALLY = 0.6
WEIGHTS = (0.10, 0.45, 0.45)


@dataclass(frozen=True)
class Rates:
    assessed: int
    response: float | None
    resolution: float | None
    satisfaction: float | None

    @property
    def composite(self) -> float | None:
        if self.response is None or self.resolution is None or self.satisfaction is None:
            return None
        w1, w2, w3 = WEIGHTS
        return w1 * self.response + w2 * self.resolution + w3 * self.satisfaction


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    y, m = (int(p) for p in month.split("-"))
    start = datetime.combine(date(y, m, 1), time(), tz)
    end = datetime.combine(date(y + (m == 12), m % 12 + 1, 1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def months_back(now: datetime, tz: ZoneInfo, n: int) -> list[str]:
    local = now.astimezone(tz)
    y, m = local.year, local.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def _rate_columns() -> list[Any]:
    responded = case(
        (
            and_(
                Callback.contacted.is_(True),
                Case.contacted_at.is_not(None),
                Case.contacted_at <= func.coalesce(Case.contact_due, Case.contacted_at),
            ),
            1,
        ),
        else_=0,
    )
    solved = case((Callback.resolved == "yes", 1), else_=0)
    sat = case(
        (Callback.satisfaction == "satisfied", 1.0),
        (Callback.satisfaction == "basically", BASICALLY),
        else_=0.0,
    )
    return [func.count(Callback.id), func.sum(responded), func.sum(solved), func.sum(sat)]


def _rates(row: Any) -> Rates:
    n = int(row[0] or 0)
    if n == 0:
        return Rates(0, None, None, None)
    return Rates(n, float(row[1] or 0) / n, float(row[2] or 0) / n, float(row[3] or 0) / n)


def _assessed(start: datetime, end: datetime) -> Any:
    return and_(Callback.at >= start, Callback.at < end, Case.exclusion_state != "approved")


def rates(session: Session, start: datetime, end: datetime) -> Rates:
    row = session.execute(
        select(*_rate_columns())
        .select_from(Callback)
        .join(Case, Case.id == Callback.case_id)
        .where(_assessed(start, end))
    ).one()
    return _rates(row)


def rates_by(session: Session, column: Any, start: datetime, end: datetime) -> dict[str, Rates]:
    rows = session.execute(
        select(column, *_rate_columns())
        .select_from(Callback)
        .join(Case, Case.id == Callback.case_id)
        .where(_assessed(start, end), column.is_not(None))
        .group_by(column)
    ).all()
    return {r[0]: _rates(r[1:]) for r in rows}


def volume(session: Session, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count(Case.id)).where(Case.created_at >= start, Case.created_at < end)
        )
        or 0
    )


def volume_by(session: Session, column: Any, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count(Case.id))
        .where(Case.created_at >= start, Case.created_at < end, column.is_not(None))
        .group_by(column)
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def metric_of(name: str, r: Rates | None, vol: int) -> float | None:
    if name == "volume":
        return float(vol)
    if r is None:
        return None
    value = {
        "response": r.response,
        "resolution": r.resolution,
        "satisfaction": r.satisfaction,
        "composite": r.composite,
    }.get(name)
    return None if value is None else round(100 * value, 1)
