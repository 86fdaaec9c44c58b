"""Due times and the choice of time-limit policy (DB11/T 2021 defaults)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jiesu.sla.calendar import WorkCalendar, load_default_calendar
from jiesu.sla.deadlines import DEFAULT_POLICY, PolicyRow, TimeLimit, due_at, select_policy

BEIJING = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
H24 = TimeLimit(24, "hours")
CB = TimeLimit(2, "workdays")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_default_calendar()


def test_two_hour_limit_crosses_midnight(cal: WorkCalendar) -> None:
    start = datetime(2026, 3, 10, 23, 0, tzinfo=BEIJING)
    due = due_at(start, TimeLimit(2, "hours"), cal, BEIJING)
    assert due == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 2026-03-11 01:00 Beijing
    assert due.tzinfo is UTC


def test_workday_limit_returns_utc(cal: WorkCalendar) -> None:
    start = datetime(2026, 9, 25, 10, 0, tzinfo=BEIJING)  # 中秋, see test_calendar
    due = due_at(start, TimeLimit(7, "workdays"), cal, BEIJING)
    assert due == datetime(2026, 10, 12, 16, 0, tzinfo=UTC)


def test_negative_or_unknown_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        TimeLimit(-1, "hours")
    with pytest.raises(ValueError):
        TimeLimit(1, "days")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("urgency", "contact", "reply"),
    [
        ("urgent", TimeLimit(1, "hours"), TimeLimit(2, "hours")),
        ("prompt", TimeLimit(2, "hours"), TimeLimit(24, "hours")),
        ("normal", H24, TimeLimit(7, "workdays")),
        ("complex", H24, TimeLimit(15, "workdays")),
    ],
)
def test_defaults_by_urgency(urgency: str, contact: TimeLimit, reply: TimeLimit) -> None:
    row = select_policy(DEFAULT_POLICY, "complaint", "170401", urgency, AT)
    assert (row.contact, row.reply, row.callback) == (contact, reply, CB)


def _row(
    request_type: str | None,
    prefix: str,
    urgency: str | None,
    reply_days: int,
    since: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    version: int = 2,
) -> PolicyRow:
    return PolicyRow(
        version, request_type, prefix, urgency, H24, TimeLimit(reply_days, "workdays"), CB, since
    )


def test_most_specific_row_wins() -> None:
    rows = (
        *DEFAULT_POLICY,
        _row(None, "01", "normal", 5),
        _row(None, "0101", "normal", 4),
        _row(None, "0101", None, 6),
        _row("report", "", None, 10),
    )
    # Among rows with the exact urgency, the longer prefix wins.
    assert select_policy(rows, "complaint", "010101", "normal", AT).reply.value == 4
    assert select_policy(rows, "complaint", "0102", "normal", AT).reply.value == 5
    # An exact urgency beats any prefix or type: a complex case keeps its 15 working days.
    assert select_policy(rows, "complaint", "010101", "complex", AT).reply.value == 15
    assert select_policy(rows, "report", "010101", "normal", AT).reply.value == 4
    # Where no row names the urgency, the exact request type beats a category prefix.
    assert select_policy(rows, "report", "010101", "someday", AT).reply.value == 10
    # No category yet: only the empty-prefix rows apply.
    assert select_policy(rows, "complaint", None, "normal", AT).reply.value == 7


def test_newer_version_takes_over_from_its_effective_date() -> None:
    change = datetime(2026, 4, 1, tzinfo=BEIJING)
    rows = (*DEFAULT_POLICY, _row(None, "", "normal", 5, since=change))
    before = select_policy(rows, "help", "0901", "normal", datetime(2026, 3, 31, tzinfo=BEIJING))
    after = select_policy(rows, "help", "0901", "normal", change)
    assert (before.version, before.reply.value) == (1, 7)
    assert (after.version, after.reply.value) == (2, 5)


def test_no_matching_policy_is_a_clear_lookup_error() -> None:
    with pytest.raises(LookupError, match="urgency='someday'"):
        select_policy(DEFAULT_POLICY, "complaint", "01", "someday", AT)
    with pytest.raises(LookupError, match="no time-limit policy in force"):
        select_policy(DEFAULT_POLICY, "complaint", "01", "normal", datetime(2019, 1, 1, tzinfo=UTC))
