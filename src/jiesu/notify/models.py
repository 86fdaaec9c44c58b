"""The notification outbox, every delivery attempt, and where units want to be told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, JSONType, UTCDateTime


class Notification(Base):
    """One message to send; written in the same transaction as the change that causes it."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    # The citizen's phone or e-mail, or the unit's; the unit code is kept for reports.
    recipient: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str | None] = mapped_column(String(32), default=None)
    template: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationAttempt(Base):
    """Every try to deliver, kept on the case (not in case_event: that log is lifecycle only)."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column()
    error: Mapped[str] = mapped_column(Text, default="")


class UnitContact(Base):
    """Where a unit receives reminders and overdue notices; no row, no notice."""

    __tablename__ = "unit_contact"

    unit_code: Mapped[str] = mapped_column(String(32), ForeignKey("unit.code"), primary_key=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
