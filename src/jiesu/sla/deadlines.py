"""Time limits (办理时限) and the choice of the policy row that sets them.

Policy is data: rows of (request_type, category prefix, urgency) → contact, reply and callback
limits, versioned by `effective_from`. A case stores the due times computed here and the policy
version used, so later edits never rewrite history (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jiesu.sla.calendar import WorkCalendar

TimeUnit = Literal["hours", "workdays"]


@dataclass(frozen=True)
class TimeLimit:
    value: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.unit not in ("hours", "workdays"):
            raise ValueError(f"unit must be 'hours' or 'workdays', got {self.unit!r}")
        if self.value < 0:
            raise ValueError(f"a time limit cannot be negative, got {self.value}")

    def __str__(self) -> str:
        return f"{self.value} h" if self.unit == "hours" else f"{self.value} working days"


def due_at(start: datetime, limit: TimeLimit, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    """When a limit running from `start` expires, as an aware UTC datetime.

    Hours are plain clock hours: the hotline and the units on duty work around the clock, so a
    2-hour urgent limit started at 23:00 ends at 01:00. Working days follow the calendar in the
    city's zone `tz` (see `WorkCalendar.add_workdays` for a start on a non-working day).
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if limit.unit == "hours":
        return start.astimezone(UTC) + timedelta(hours=limit.value)
    return calendar.add_workdays(start, limit.value, tz).astimezone(UTC)


@dataclass(frozen=True)
class PolicyRow:
    """One time-limit rule. None in request_type or urgency means "any"; "" prefix = all.

    The callback limit runs from the unit's reply (办结反馈), the others from dispatch.
    """

    version: int
    request_type: str | None
    category_prefix: str
    urgency: str | None
    contact: TimeLimit
    reply: TimeLimit
    callback: TimeLimit
    effective_from: datetime

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.request_type, self.category_prefix, self.urgency)


def _specificity(row: PolicyRow) -> tuple[int, int, int]:
    # Compared in this order: an exact urgency first (an urgent case keeps its 2-hour limit
    # whatever its type), then an exact request type, then a longer category prefix.
    return (
        row.urgency is not None,
        row.request_type is not None,
        len(row.category_prefix),
    )


def select_policy(
    rows: Sequence[PolicyRow],
    request_type: str,
    category: str | None,
    urgency: str,
    at: datetime,
) -> PolicyRow:
    """The policy row that governs a case, as in force at `at`.

    Only rows with effective_from <= at count; of rows with the same (request_type, prefix,
    urgency) the newest effective_from (then the highest version) replaces the older ones.
    Among the rows that match the case the most specific wins, compared in this order: an
    exact urgency beats None (an urgent case keeps its urgent limit whatever its type), then an
    exact request_type beats None, then a longer category_prefix beats a shorter one. So while
    the defaults name every urgency, a row (complaint, "", None) never governs a case: write
    (complaint, "", "normal") to give normal complaints their own limit.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    current: dict[tuple[str | None, str, str | None], PolicyRow] = {}
    for row in rows:
        if row.effective_from > at:
            continue
        held = current.get(row.key)
        if held is None or (row.effective_from, row.version) > (held.effective_from, held.version):
            current[row.key] = row
    matches = [
        row
        for row in current.values()
        if row.request_type in (None, request_type)
        and row.urgency in (None, urgency)
        and (row.category_prefix == "" or (category or "").startswith(row.category_prefix))
    ]
    if not matches:
        raise LookupError(
            f"no time-limit policy in force at {at.isoformat()} for request_type={request_type!r},"
            f" category={category!r}, urgency={urgency!r}; add a row with an empty category"
            " prefix for this urgency (or urgency left empty) to cover it"
        )
    return max(matches, key=_specificity)


# Defaults after Beijing's draft local standard DB11/T 2021 (接诉即办 service specification):
# urgent 2 h, utilities (水电气热, `prompt`) 24 h, normal 7 working days, complex 15 working days;
# contact within 24 h except urgent (1 h) and prompt (2 h); callback within 2 working days of
# the reply. These are *defaults*; a centre edits them as data.
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_CALLBACK = TimeLimit(2, "workdays")

DEFAULT_POLICY: tuple[PolicyRow, ...] = (
    PolicyRow(
        1, None, "", "urgent", TimeLimit(1, "hours"), TimeLimit(2, "hours"), _CALLBACK, _EPOCH
    ),
    PolicyRow(
        1, None, "", "prompt", TimeLimit(2, "hours"), TimeLimit(24, "hours"), _CALLBACK, _EPOCH
    ),
    PolicyRow(
        1, None, "", "normal", TimeLimit(24, "hours"), TimeLimit(7, "workdays"), _CALLBACK, _EPOCH
    ),
    PolicyRow(
        1, None, "", "complex", TimeLimit(24, "hours"), TimeLimit(15, "workdays"), _CALLBACK, _EPOCH
    ),
)
