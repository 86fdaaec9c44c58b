"""Working-day calendar: public holidays and make-up workdays (调休上班) are data, never code.

The State Council publishes each year's schedule (e.g. 国办发明电〔2024〕12号 for 2025,
国办发明电〔2025〕7号 for 2026); a centre loads it per year from holidays.csv or its admin page.
Dates outside the loaded years fall back to Monday–Friday, so `covered_years` lets a caller warn
before computing deadlines into a year whose schedule is not loaded yet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

HOLIDAY_KINDS = frozenset({"holiday", "workday"})


def is_weekend(d: date) -> bool:
    """Saturday or Sunday: the only days a make-up workday (调休上班) can fall on; a weekday
    is a working day already."""
    return d.weekday() >= 5


class CalendarError(ValueError):
    """A holiday file or calendar that cannot be used; the message says what to fix."""


class WorkCalendar:
    def __init__(self, holidays: Iterable[date], workdays: Iterable[date] = ()) -> None:
        self.holidays: frozenset[date] = frozenset(holidays)
        self.workdays: frozenset[date] = frozenset(workdays)  # make-up workdays only
        both = sorted(self.holidays & self.workdays)
        if both:
            raise CalendarError(
                f"{both[0].isoformat()} is listed both as a holiday and as a make-up workday"
            )
        self.covered_years = frozenset(d.year for d in self.holidays | self.workdays)

    def is_workday(self, d: date) -> bool:
        """Mon–Fri unless a public holiday; Sat/Sun only when a make-up workday (调休)."""
        if d in self.holidays:
            return False
        if d in self.workdays:
            return True
        return d.weekday() < 5

    def add_workdays(self, start: datetime, n: int, tz: ZoneInfo) -> datetime:
        """The moment `n` working days after `start`, counted in the city's local time.

        - `start` on a working day: the same local clock time on the n-th following working
          day (Monday 10:00 + 7 → 10:00 seven working days later).
        - `start` on a non-working day (weekend, holiday): the clock starts with the next
          working day, so the due time is the end of the n-th working day after `start`,
          i.e. local 00:00 of the day after it. A case registered on Saturday with a 1-day
          limit is due at the end of Monday, not at Monday's copy of Saturday's clock time.

        The result is aware, in `tz`; n == 0 returns `start` unchanged.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start
        local = start.astimezone(tz)
        day = local.date()
        started_on_workday = self.is_workday(day)
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        if started_on_workday:
            # Rebuilt from wall-clock parts so the result keeps the local time across any
            # change of UTC offset; fold=0 picks the earlier instant of an ambiguous time.
            return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def parse_holidays_csv(text: str) -> tuple[list[date], list[date]]:
    """Columns date,kind,name; kind is `holiday` or `workday` (a weekend make-up day).

    Returns (holidays, workdays). Errors name the line.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("date", "kind", "name") if c not in header]
    if missing:
        raise CalendarError(
            f"line 1: holidays file is missing column(s) {', '.join(missing)}; "
            "the header must be date,kind,name"
        )
    reader.fieldnames = header
    holidays: list[date] = []
    workdays: list[date] = []
    seen: dict[date, int] = {}
    for raw in reader:
        line = reader.line_num
        cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue
        try:
            d = date.fromisoformat(cells["date"])
        except ValueError:
            raise CalendarError(
                f"line {line}: date {cells['date']!r} is not a date; write it as YYYY-MM-DD"
            ) from None
        kind = cells["kind"]
        if kind not in HOLIDAY_KINDS:
            raise CalendarError(
                f"line {line}: kind {kind!r} for {d.isoformat()}; use holiday or workday"
            )
        if d in seen:
            raise CalendarError(
                f"line {line}: {d.isoformat()} is listed twice (first on line {seen[d]})"
            )
        seen[d] = line
        if kind == "workday":
            if not is_weekend(d):
                raise CalendarError(
                    f"line {line}: {d.isoformat()} is a weekday, already a working day; "
                    "a make-up workday (调休上班) must fall on a Saturday or Sunday"
                )
            workdays.append(d)
        else:
            holidays.append(d)
    return holidays, workdays


def load_default_calendar() -> WorkCalendar:
    text = resources.files("jiesu").joinpath("data", "holidays.csv").read_text(encoding="utf-8")
    holidays, workdays = parse_holidays_csv(text)
    return WorkCalendar(holidays, workdays)
