"""Working days per the State Council holiday schedules (国办发明电〔2024〕12号, 〔2025〕7号)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from jiesu.sla.calendar import (
    CalendarError,
    WorkCalendar,
    load_default_calendar,
    parse_holidays_csv,
)

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_default_calendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 14), True),  # Saturday, 春节调休上班
        (date(2026, 2, 16), False),  # Monday inside 春节
        (date(2025, 10, 8), False),  # Wednesday, last day of 国庆中秋
        (date(2025, 10, 11), True),  # Saturday, make-up day
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2025, 10, 9), True),  # ordinary Thursday
    ],
)
def test_is_workday(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_workday(day) is working


def test_default_calendar_covers_2025_and_2026(cal: WorkCalendar) -> None:
    assert cal.covered_years == {2025, 2026}


def test_seven_working_days_over_mid_autumn_and_national_day(cal: WorkCalendar) -> None:
    # Fri 2026-09-25 is 中秋 (holiday), so the clock starts with the next working day and the
    # limit ends at the end of the 7th one: 9/28 Mon (1), 9/29 (2), 9/30 (3), 10/1-10/7 国庆,
    # 10/8 Thu (4), 10/9 Fri (5), 10/10 Sat 调休 (6), 10/11 Sun off, 10/12 Mon (7).
    # End of 10/12 = 2026-10-13 00:00 Beijing = 2026-10-12 16:00 UTC.
    start = datetime(2026, 9, 25, 10, 0, tzinfo=BEIJING)
    due = cal.add_workdays(start, 7, BEIJING)
    assert due == datetime(2026, 10, 13, 0, 0, tzinfo=BEIJING)
    assert due.astimezone(UTC) == datetime(2026, 10, 12, 16, 0, tzinfo=UTC)


def test_working_day_start_keeps_the_clock_time(cal: WorkCalendar) -> None:
    # Wed 2026-09-30 is a working day; the next one is Thu 10/8 after the National Day break.
    start = datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING)
    assert cal.add_workdays(start, 1, BEIJING) == datetime(2026, 10, 8, 10, 0, tzinfo=BEIJING)
    # Fri 2026-02-13 + 1 lands on the make-up Saturday 2/14.
    friday = datetime(2026, 2, 13, 15, 30, tzinfo=BEIJING)
    assert cal.add_workdays(friday, 1, BEIJING) == datetime(2026, 2, 14, 15, 30, tzinfo=BEIJING)


def test_start_given_in_utc_is_counted_in_local_time(cal: WorkCalendar) -> None:
    # 2026-02-13 17:00 UTC is already Saturday 2/14 01:00 in Beijing, a make-up workday, so the
    # clock time is kept; 2/15-2/23 is 春节, so the next working day is Tue 2/24.
    start = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    assert cal.add_workdays(start, 1, BEIJING) == datetime(2026, 2, 24, 1, 0, tzinfo=BEIJING)


def test_naive_start_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_workdays(datetime(2026, 3, 2, 9, 0), 1, BEIJING)


def test_parse_holidays_names_the_bad_line() -> None:
    text = "date,kind,name\n2026-01-01,holiday,元旦\n2026-01-05,workday,调休\n"
    with pytest.raises(CalendarError, match=r"line 3: 2026-01-05 is a weekday"):
        parse_holidays_csv(text)
    with pytest.raises(CalendarError, match=r"line 2: date '2026/01/01' is not a date"):
        parse_holidays_csv("date,kind,name\n2026/01/01,holiday,元旦\n")
    with pytest.raises(CalendarError, match=r"line 2: kind 'rest'"):
        parse_holidays_csv("date,kind,name\n2026-01-01,rest,元旦\n")
    with pytest.raises(CalendarError, match=r"missing column\(s\) kind"):
        parse_holidays_csv("date,name\n2026-01-01,元旦\n")


def test_parse_holidays_splits_kinds() -> None:
    holidays, workdays = parse_holidays_csv(
        "date,kind,name\n2026-01-01,holiday,元旦\n2026-01-04,workday,元旦调休上班\n"
    )
    assert holidays == [date(2026, 1, 1)]
    assert workdays == [date(2026, 1, 4)]
