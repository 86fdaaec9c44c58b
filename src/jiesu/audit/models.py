"""Who saw a citizen's personal data: every unmasking, with its reason (DESIGN §9).

Kept apart from case_event on purpose: that log is the case's lifecycle, this one is about
people reading personal data, and it is never shown to the units themselves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class AccessLog(Base):
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(32), default=None)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    # What was shown, e.g. "citizen_name,citizen_phone".
    fields: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
