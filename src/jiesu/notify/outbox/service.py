"""The outbox: notifications written in the same transaction as the change that causes them,
and sent by `jiesu jobs notify` only after that transaction has committed.

Citizens get an SMS with the case number after registration and the unit's reply after it;
units get 催办 reminders before a due time and 督办 notices once overdue, by e-mail (or SMS)
to the addresses in unit_contact. Every delivery attempt is a notification_attempt row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.cases.models import Case
from jiesu.clock import Clock
from jiesu.notify.models import Notification, NotificationAttempt, UnitContact
from jiesu.notify.notifier import Message, Notifier, NotifyError, mask_recipient
from jiesu.uow import UnitOfWork

log = logging.getLogger("jiesu.notify")

KIND_ZH = {"contact": "联系诉求人", "reply": "办结反馈", "callback": "回访", "task": "协办任务"}
TEMPLATES: dict[str, tuple[str, str]] = {
    "registered": (
        "您的诉求已受理",
        "您的诉求已受理，工单编号{case_id}。可凭工单编号和手机号后四位查询办理进度。",
    ),
    "replied": ("您的诉求已有答复", "工单{case_id}的办理结果：{reply}"),
    "reminder": ("催办提醒", "工单{case_id}的{kind_zh}时限将于{due}到期，请抓紧办理。"),
    "overdue": ("督办通知", "工单{case_id}的{kind_zh}已于{due}超期，请立即办理并说明原因。"),
}
REPLY_PREVIEW = 300  # an SMS is short; the full reply is on the citizen's page

_listeners: list[Callable[[], None]] = []


def on_kick(listener: Callable[[], None]) -> None:
    """A sender that wants to run as soon as new notifications are committed."""
    _listeners.append(listener)


def kick() -> None:
    """After-commit hook: wake any in-process sender; never raises into the request."""
    for listener in list(_listeners):
        try:
            listener()
        except Exception:  # a sender's failure must not undo a committed request
            log.exception("notification sender wake-up failed")


def render(template: str, payload: Mapping[str, Any]) -> Message:
    subject, body = TEMPLATES[template]
    return Message("", subject, body.format(**payload))


def _row(
    case_id: int,
    channel: str,
    recipient: str,
    template: str,
    payload: dict[str, Any],
    now: datetime,
    unit_code: str | None = None,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "channel": channel,
        "recipient": recipient,
        "unit_code": unit_code,
        "template": template,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


def enqueue_registered(session: Session, case: Case, now: datetime) -> None:
    row = registered_row(case, now)
    if row is not None:
        session.add(Notification(**row))


def registered_row(case: Case, now: datetime) -> dict[str, Any] | None:
    """The citizen's "registered" SMS for a flushed new case, as a row (None without a phone):
    the registrar inserts a group's rows with one statement."""
    if not case.citizen_phone:
        return None
    return _row(case.id, "sms", case.citizen_phone, "registered", {"case_id": case.id}, now)


def enqueue_replied(session: Session, case: Case, now: datetime) -> None:
    if case.citizen_phone:
        reply = case.reply_text[:REPLY_PREVIEW]
        payload = {"case_id": case.id, "reply": reply}
        row = _row(case.id, "sms", case.citizen_phone, "replied", payload, now)
        session.add(Notification(**row))


def enqueue_unit_notices(
    session: Session, rows: Iterable[Mapping[str, Any]], now: datetime, tz_name: str = ""
) -> int:
    """One notice per new scanner row (case_id, kind, stage, due, unit_code) whose unit
    has an address; a unit without one is told nothing (and the scanner row still stands)."""
    rows = [r for r in rows if r.get("unit_code")]
    codes = {r["unit_code"] for r in rows}
    contacts = {
        c.unit_code: c
        for c in session.scalars(select(UnitContact).where(UnitContact.unit_code.in_(codes)))
    }
    added = 0
    for r in rows:
        contact = contacts.get(r["unit_code"])
        if contact is None:
            continue
        due: datetime = r["due"]
        payload = {
            "case_id": r["case_id"],
            "kind": r["kind"],
            "kind_zh": KIND_ZH.get(r["kind"], r["kind"]),
            "due": due.isoformat(timespec="minutes"),
        }
        for channel, address in (("email", contact.email), ("sms", contact.phone)):
            if address:
                row = _row(r["case_id"], channel, address, r["stage"], payload, now, r["unit_code"])
                session.add(Notification(**row))
                added += 1
    return added


@dataclass
class SendResult:
    sent: int = 0
    retry: int = 0
    failed: int = 0


def backoff(attempts: int, base: timedelta) -> timedelta:
    """Exponential: base, 2·base, 4·base, … capped at a day."""
    delay: timedelta = base * (2 ** max(attempts - 1, 0))
    return min(delay, timedelta(days=1))


def send_pending(
    uow: UnitOfWork,
    clock: Clock,
    notifiers: Mapping[str, Notifier],
    *,
    max_attempts: int = 5,
    base_delay: timedelta = timedelta(minutes=1),
    limit: int = 1000,
) -> SendResult:
    """Send what is due; one commit per notification so a crash never re-sends a sent one
    twice over a whole batch (delivery is at least once)."""
    result = SendResult()
    session = uow.session
    now = clock.now()
    ids = session.scalars(
        select(Notification.id)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    ).all()
    for nid in ids:
        note = session.get(Notification, nid)
        if note is None or note.status != "pending":
            continue
        error = ""
        try:
            notifier = notifiers.get(note.channel)
            if notifier is None:
                raise NotifyError(f"no {note.channel} notifier configured")
            message = render(note.template, note.payload)
            notifier.send(Message(note.recipient, message.subject, message.body))
        except NotifyError as exc:
            error = str(exc)
        at = clock.now()
        note.attempts += 1
        session.add(
            NotificationAttempt(
                notification_id=note.id, case_id=note.case_id, at=at, ok=not error, error=error
            )
        )
        who = mask_recipient(note.recipient)
        if not error:
            note.status, note.sent_at, note.last_error = "sent", at, ""
            result.sent += 1
            log.info("notification %s (%s) sent to %s", note.id, note.template, who)
        elif note.attempts >= max_attempts:
            note.status, note.last_error = "failed", error
            result.failed += 1
            log.warning("notification %s to %s failed for good: %s", note.id, who, error)
        else:
            note.last_error = error
            note.next_attempt_at = at + backoff(note.attempts, base_delay)
            result.retry += 1
            log.info("notification %s to %s will be retried: %s", note.id, who, error)
        uow.commit()
    return result
