"""What is due on a case, and when it is overdue: the one rule the case list, the dispatcher's
overdue queue and the deadline scanner all follow. Pure: no database, no framework.

A unit owes the first contact and the reply while the case is with it (workflow.WITH_UNIT);
the centre owes the callback once the unit has replied. A time limit is overdue once the clock
is past it: a contact or reply made at the due time itself is within the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from jiesu.cases.workflow import WITH_UNIT, Status


class Timed(Protocol):
    """The fields of a case the rule reads (a cases.models.Case has them all)."""

    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def dispatched_at(self) -> datetime | None: ...
    @property
    def contacted_at(self) -> datetime | None: ...
    @property
    def replied_at(self) -> datetime | None: ...
    @property
    def contact_due(self) -> datetime | None: ...
    @property
    def reply_due(self) -> datetime | None: ...
    @property
    def callback_due(self) -> datetime | None: ...


@dataclass(frozen=True)
class Due:
    kind: str  # contact | reply | callback
    due: datetime
    start: datetime  # when its clock started (the scanner reminds at a share of the span)


def case_dues(case: Timed) -> list[Due]:
    """The time limits a case is running now, each with its start."""
    out: list[Due] = []
    if case.status in WITH_UNIT:
        start = case.dispatched_at or case.created_at
        if case.contact_due is not None and case.contacted_at is None:
            out.append(Due("contact", case.contact_due, start))
        if case.reply_due is not None:
            out.append(Due("reply", case.reply_due, start))
    elif case.status == Status.REPLIED and case.callback_due is not None:
        out.append(Due("callback", case.callback_due, case.replied_at or case.created_at))
    return out


def is_overdue(due: datetime, now: datetime) -> bool:
    return now > due


def overdue_kinds(case: Timed, now: datetime) -> list[str]:
    return [d.kind for d in case_dues(case) if is_overdue(d.due, now)]
