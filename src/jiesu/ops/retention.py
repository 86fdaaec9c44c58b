"""Retention: remove citizens' personal data of cases finished long ago (北京市接诉即办工作条例
protects it; nobody needs a 2023 caller's phone, address or words in 2027).

For cases closed / answered / terminated / merged before the cutoff:
- case_key: the case's data key is deleted. The free text of its events (every reason, reply,
  answer, contact and callback note, evidence; cases/personal.py keeps the list) was stored
  sealed under that key, so it can never be read again and reads as SHREDDED, while the event
  rows and their hash chain stay byte for byte as they were (`jiesu audit verify` passes);
- case_record: citizen_name → ANON_NAME, citizen_phone and address → "", lat/lon rounded to
  two decimals (about a kilometre), the citizen's name, phone and address and every phone-like
  number or e-mail address inside the case text masked (the rest of the text stays: topics are
  mined from it); answer, reply, return, extension and exclusion texts → SHREDDED;
- case_task reason and reply, case_callback note, citizen_rating note → SHREDDED;
- notification: the citizen's recipient → "", the reply quoted in its SMS → SHREDDED, phone-like
  numbers in delivery errors masked;
- open311_request: email, account_id, device_id, address_id, media_url → "";
- the analytics lake (`refresh_lake` after the commit): the cases' rows are re-exported from the
  scrubbed table. Its events hold the sealed text only, so they need no rewrite.
What never changes: statuses, categories, units, streets, times, callback and rating answers
(every count and rate stays the same) and the event rows. On SQLite the run writes with
secure_delete and truncates the WAL afterwards, so old bytes do not linger in the file; on
PostgreSQL old row versions stay in the data files until VACUUM reuses them (the CLI runs
VACUUM on the tables it changed), and backups keep what they held until they expire.
Running it twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jiesu.cases.models import Callback, Case, CaseKey, Task
from jiesu.cases.personal import SHREDDED
from jiesu.cases.workflow import FINISHED, values
from jiesu.errors import InvalidInput
from jiesu.notify.models import Notification, NotificationAttempt
from jiesu.open311.models import Open311Request
from jiesu.ops.models import RetentionRun
from jiesu.privacy.redact import redact
from jiesu.web.models import CitizenRating

log = logging.getLogger(__name__)

ANON_NAME = "（已匿名）"
# Stricter than redaction on read: any run of digits long enough to be a number goes.
PHONE_LIKE = re.compile(r"\d[\d -]{5,}\d")
BATCH = 500
PLACE_DECIMALS = 2  # about a kilometre: the street stays, the doorstep goes


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    cases: int
    notifications: int
    open311_requests: int
    ratings: int
    keys: int = 0
    case_ids: tuple[int, ...] = ()

    def summary(self) -> str:
        return (
            f"retention: cases finished before {self.cutoff.isoformat()} — {self.cases} cases "
            f"({self.keys} case keys shredded), {self.notifications} notifications, "
            f"{self.open311_requests} Open311 requests, {self.ratings} rating notes anonymised"
        )


CHANGED_TABLES = (
    Case.__tablename__,
    CaseKey.__tablename__,
    Task.__tablename__,
    Callback.__tablename__,
    Notification.__tablename__,
    NotificationAttempt.__tablename__,
    Open311Request.__tablename__,
    CitizenRating.__tablename__,
)


def _mask(text: str) -> str:
    return PHONE_LIKE.sub(lambda m: "*" * len(m.group(0)), redact(text))


def _scrub(text: str, *secrets: str) -> str:
    """The citizen's own name, number and address sometimes sit in what they said; the rest of
    the text stays, since topics are mined from it."""
    for secret in secrets:
        if len(secret) >= 2 and secret != ANON_NAME:
            text = text.replace(secret, "*" * len(secret))
    return _mask(text)


def _shred(column: Any) -> Any:
    """Free text mirrored from a sealed event field: gone, and an empty one stays empty."""
    return sa.case((column != "", SHREDDED), else_=column)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, PLACE_DECIMALS)


def expired_cases(session: Session, cutoff: datetime) -> list[int]:
    """Finished before the cutoff and not yet done: a done case has the anonymous name, no
    phone, no address and no key left (cases anonymised before keys existed get done once)."""
    finished_at = sa.func.coalesce(Case.closed_at, Case.updated_at)
    has_key = sa.exists().where(CaseKey.case_id == Case.id)
    return list(
        session.scalars(
            sa.select(Case.id)
            # Finished: a closed case may still be reopened by a late callback, but not years on.
            .where(Case.status.in_(values(FINISHED)), finished_at < cutoff)
            .where(
                sa.or_(
                    Case.citizen_name != ANON_NAME,
                    Case.citizen_phone != "",
                    Case.address != "",
                    has_key,
                )
            )
            .order_by(Case.id)
        )
    )


def anonymise_finished(session: Session, now: datetime, days: int) -> RetentionResult:
    """Anonymise what is older than `days`; records a RetentionRun row. The caller commits
    (and then calls `compact` and `refresh_lake`)."""
    if days < 1:
        raise InvalidInput("retention days: at least 1", details={"field": "days"})
    if session.get_bind().dialect.name == "sqlite":
        # Freed cells and pages are zeroed, so the old values leave the file's bytes too.
        session.execute(sa.text("PRAGMA secure_delete = ON"))
    cutoff = now - timedelta(days=days)
    case_ids = expired_cases(session, cutoff)
    cases = notifications = requests = ratings = keys = 0
    for start in range(0, len(case_ids), BATCH):
        ids = case_ids[start : start + BATCH]
        cases += _scrub_cases(session, ids)
        keys += _count(session.execute(sa.delete(CaseKey).where(CaseKey.case_id.in_(ids))))
        _shred_rows(session, ids)
        notifications += _scrub_notifications(session, ids)
        requests += _count(
            session.execute(
                sa.update(Open311Request)
                .where(Open311Request.case_id.in_(ids))
                .values(email="", account_id="", device_id="", address_id="", media_url="")
            )
        )
        ratings += _count(
            session.execute(
                sa.update(CitizenRating)
                .where(CitizenRating.case_id.in_(ids), CitizenRating.note != "")
                .values(note=SHREDDED)
            )
        )
    result = RetentionResult(cutoff, cases, notifications, requests, ratings, keys, tuple(case_ids))
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


def _scrub_cases(session: Session, ids: list[int]) -> int:
    rows = session.execute(
        sa.select(
            Case.id,
            Case.text,
            Case.citizen_name,
            Case.citizen_phone,
            Case.address,
            Case.lat,
            Case.lon,
        ).where(Case.id.in_(ids))
    ).all()
    for case_id, text, name, phone, address, lat, lon in rows:
        # Core UPDATEs, not ORM objects: no version bump, so no one's open form goes
        # stale, and updated_at stays the time of the last lifecycle change.
        session.execute(
            sa.update(Case)
            .where(Case.id == case_id)
            .values(
                citizen_name=ANON_NAME,
                citizen_phone="",
                address="",
                lat=_round(lat),
                lon=_round(lon),
                text=_scrub(text, name, phone, address),
                answer_text=_shred(Case.answer_text),
                reply_text=_shred(Case.reply_text),
                return_reason=_shred(Case.return_reason),
                extension_pending_reason=_shred(Case.extension_pending_reason),
                exclusion_reason=_shred(Case.exclusion_reason),
            )
            .execution_options(synchronize_session=False)
        )
    return len(rows)


def _shred_rows(session: Session, ids: list[int]) -> None:
    session.execute(
        sa.update(Task)
        .where(Task.case_id.in_(ids))
        .values(reason=_shred(Task.reason), reply_text=_shred(Task.reply_text))
    )
    session.execute(
        sa.update(Callback).where(Callback.case_id.in_(ids)).values(note=_shred(Callback.note))
    )


def _scrub_notifications(session: Session, ids: list[int]) -> int:
    """The citizen's messages: no recipient, no quoted reply. Units' notices name no citizen
    (a case number, a kind, a due time) and keep their unit's address."""
    changed = 0
    for note in session.scalars(
        sa.select(Notification).where(
            Notification.case_id.in_(ids), Notification.unit_code.is_(None)
        )
    ):
        payload = dict(note.payload or {})
        if payload.get("reply"):
            payload["reply"] = SHREDDED
        before = (note.recipient, note.payload, note.last_error)
        note.recipient, note.payload, note.last_error = "", payload, _mask(note.last_error)
        changed += (note.recipient, note.payload, note.last_error) != before
    for attempt in session.scalars(
        sa.select(NotificationAttempt).where(
            NotificationAttempt.case_id.in_(ids), NotificationAttempt.error != ""
        )
    ):
        attempt.error = _mask(attempt.error)
    return changed


def compact(bind: sa.Engine) -> None:
    """After the commit: let the old bytes go. SQLite: fold the WAL (which holds the pages as
    they were) into the file and truncate it. PostgreSQL: VACUUM the changed tables, so their
    dead row versions are marked for reuse (the bytes go when they are overwritten)."""
    with bind.connect() as conn:
        if bind.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in CHANGED_TABLES:
            conn.exec_driver_sql(f'VACUUM "{table}"')


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
