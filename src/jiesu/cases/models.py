"""The case aggregate's tables: the case, its assignments, co-handling tasks, callbacks,
the append-only event log and the scanner's reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, JSONType, UTCDateTime


class Case(Base):
    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_status_created", "status", "created_at"),
        Index("ix_case_lead_status", "lead_unit", "status"),
        # A place's most recent cases (the duplicate window, triage/window.py): without these a
        # street's 300 latest were found by walking every street's cases backwards in time.
        Index("ix_case_street_created", "street", "created_at"),
        Index("ix_case_district_created", "district", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    request_type: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("category.code"), index=True, default=None
    )
    urgency: Mapped[str] = mapped_column(String(20), default="normal")
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    address: Mapped[str] = mapped_column(String(500), default="")
    district: Mapped[str | None] = mapped_column(String(32), ForeignKey("unit.code"), default=None)
    street: Mapped[str | None] = mapped_column(String(32), ForeignKey("unit.code"), default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    citizen_name: Mapped[str] = mapped_column(String(100), default="")
    citizen_phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    lead_unit: Mapped[str | None] = mapped_column(String(32), ForeignKey("unit.code"), default=None)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    reply_text: Mapped[str] = mapped_column(Text, default="")
    master_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_record.id"), default=None, index=True
    )
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Pending side requests: an extension, a return, an exclusion
    # (none / requested / approved / rejected).
    extension_pending_days: Mapped[int | None] = mapped_column(Integer, default=None)
    extension_pending_reason: Mapped[str] = mapped_column(Text, default="")
    exclusion_state: Mapped[str] = mapped_column(String(12), default="none")
    exclusion_reason: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    # Time limits (DESIGN §4): computed once, with the policy version that produced them.
    policy_version: Mapped[int | None] = mapped_column(Integer, default=None)
    contact_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reply_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    callback_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    registered_by: Mapped[str] = mapped_column(String(80), default="")
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API


class Assignment(Base):
    """主办 / 协办: which units hold the case; inactive rows keep the history of reassignments."""

    __tablename__ = "case_assignment"
    __table_args__ = (Index("ix_assignment_unit_active", "unit_code", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32), ForeignKey("unit.code"))
    role: Mapped[str] = mapped_column(String(10))  # lead | co
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Task(Base):
    """吹哨报到: a co-handler's task, summoned by the lead unit, with its own deadline."""

    __tablename__ = "case_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32), ForeignKey("unit.code"))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|accepted|replied
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reply_text: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Callback(Base):
    __tablename__ = "case_callback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The unit assessed for this callback: the lead unit at the time of the call.
    unit_code: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    contacted: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[str] = mapped_column(String(10))  # yes | partly | no
    satisfaction: Mapped[str] = mapped_column(String(15))  # satisfied | basically | dissatisfied
    by_user: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")


class CaseEvent(Base):
    """Append-only: one row per action, written in the same transaction as the change."""

    __tablename__ = "case_event"
    __table_args__ = (
        Index("ix_event_case_id", "case_id", "id"),
        # One position per case in the hash chain (jiesu.audit.chain): a fork cannot commit.
        UniqueConstraint("case_id", "seq", name="uq_event_case_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(32), default=None)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Tamper evidence (jiesu.audit.chain): position in the case's chain and the link hash.
    seq: Mapped[int] = mapped_column(Integer)
    chain_hash: Mapped[str] = mapped_column(String(64))


class Reminder(Base):
    """催办 before a due time, 督办 (overdue) after; unique so a re-run adds nothing."""

    __tablename__ = "case_reminder"
    __table_args__ = (UniqueConstraint("case_id", "kind", "stage", "due", name="uq_reminder_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # contact | reply | callback | task
    stage: Mapped[str] = mapped_column(String(10))  # reminder | overdue
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    unit_code: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseKey(Base):
    """A case's data key (crypto-shredding, cases/personal.py): the free text of its events is
    stored encrypted under it, and retention deletes the row, so that text can never be read
    again while the event rows, and their hash chain, stay as they were."""

    __tablename__ = "case_key"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
