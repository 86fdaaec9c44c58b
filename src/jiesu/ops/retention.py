"""Retention: anonymise citizens' personal data of cases finished long ago (北京市接诉即办工作条例
protects it; nobody needs a 2023 caller's phone in 2027).

What changes, for cases closed / answered / terminated / merged before the cutoff:
- case_record: citizen_name → ANON_NAME, citizen_phone → "" (tracking by phone ends), and
  the citizen's name and phone-like numbers inside the case text masked;
- notification: the citizen's recipient (rows without a unit_code) → "";
- open311_request: email, account_id, device_id → "";
- citizen_rating: phone-like digit runs in the citizen's note are masked.
What never changes: statuses, categories, units, times, ratings' answers (every count and rate
stays the same), and case_event, which is append-only and holds no phone or name (the register
event's payload carries triage facts only; tests/integration/test_retention.py checks it).
Running it twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jiesu.cases.models import Case
from jiesu.errors import InvalidInput
from jiesu.notify.models import Notification
from jiesu.open311.models import Open311Request
from jiesu.ops.models import RetentionRun
from jiesu.web.models import CitizenRating

log = logging.getLogger(__name__)

ANON_NAME = "（已匿名）"
# Finished for good: a closed case may still be reopened by a late callback, but not years on.
FINISHED = ("closed", "answered", "terminated", "merged")
PHONE_LIKE = re.compile(r"\d[\d -]{5,}\d")
BATCH = 500


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    cases: int
    notifications: int
    open311_requests: int
    ratings: int

    def summary(self) -> str:
        return (
            f"retention: cases finished before {self.cutoff.isoformat()} — {self.cases} cases, "
            f"{self.notifications} notifications, {self.open311_requests} Open311 requests, "
            f"{self.ratings} rating notes anonymised"
        )


def _mask_digits(text: str) -> str:
    return PHONE_LIKE.sub(lambda m: "*" * len(m.group(0)), text)


def _scrub(text: str, name: str, phone: str) -> str:
    """The citizen's own name and number sometimes sit in what they said; the rest of the
    text stays, since topics and reply quality are mined from it."""
    for secret in (name, phone):
        if len(secret) >= 2:
            text = text.replace(secret, "*" * len(secret))
    return _mask_digits(text)


def anonymise_finished(session: Session, now: datetime, days: int) -> RetentionResult:
    """Anonymise what is older than `days`; records a RetentionRun row. The caller commits."""
    if days < 1:
        raise InvalidInput("retention days: at least 1", details={"field": "days"})
    cutoff = now - timedelta(days=days)
    finished_at = sa.func.coalesce(Case.closed_at, Case.updated_at)
    old = (
        sa.select(Case.id)
        .where(Case.status.in_(FINISHED), finished_at < cutoff)
        .where(sa.or_(Case.citizen_name != ANON_NAME, Case.citizen_phone != ""))
    )
    case_ids = list(session.scalars(old))
    cases = notifications = requests = ratings = 0
    for start in range(0, len(case_ids), BATCH):
        ids = case_ids[start : start + BATCH]
        rows = session.execute(
            sa.select(Case.id, Case.text, Case.citizen_name, Case.citizen_phone).where(
                Case.id.in_(ids)
            )
        ).all()
        for case_id, text, name, phone in rows:
            # Core UPDATEs, not ORM objects: no version bump, so no one's open form goes
            # stale, and updated_at stays the time of the last lifecycle change.
            session.execute(
                sa.update(Case)
                .where(Case.id == case_id)
                .values(
                    citizen_name=ANON_NAME,
                    citizen_phone="",
                    text=_scrub(text, name, phone),
                )
                .execution_options(synchronize_session=False)
            )
            cases += 1
        notifications += _count(
            session.execute(
                sa.update(Notification)
                .where(
                    Notification.case_id.in_(ids),
                    Notification.unit_code.is_(None),
                    Notification.recipient != "",
                )
                .values(recipient="")
            )
        )
        requests += _count(
            session.execute(
                sa.update(Open311Request)
                .where(Open311Request.case_id.in_(ids))
                .values(email="", account_id="", device_id="")
            )
        )
        for rating in session.scalars(
            sa.select(CitizenRating).where(CitizenRating.case_id.in_(ids), CitizenRating.note != "")
        ):
            masked = _mask_digits(rating.note)
            if masked != rating.note:
                rating.note = masked
                ratings += 1
    result = RetentionResult(cutoff, cases, notifications, requests, ratings)
    session.add(
        RetentionRun(
            ran_at=now,
            cutoff=cutoff,
            days=days,
            cases=cases,
            notifications=notifications,
            open311_requests=requests,
            ratings=ratings,
        )
    )
    session.flush()
    log.info(result.summary())
    return result


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
