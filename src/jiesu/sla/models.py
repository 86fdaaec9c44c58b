"""Time-limit policy rows and the working-day calendar (DESIGN §4): data, never code."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class SlaPolicy(Base):
    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    request_type: Mapped[str | None] = mapped_column(String(20), default=None)
    category_prefix: Mapped[str] = mapped_column(String(32), default="")
    urgency: Mapped[str | None] = mapped_column(String(20), default=None)
    contact_value: Mapped[int] = mapped_column(Integer)
    contact_unit: Mapped[str] = mapped_column(String(10))
    reply_value: Mapped[int] = mapped_column(Integer)
    reply_unit: Mapped[str] = mapped_column(String(10))
    callback_value: Mapped[int] = mapped_column(Integer)
    callback_unit: Mapped[str] = mapped_column(String(10))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarDay(Base):
    """Only the exceptions: public holidays and make-up workdays (调休)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(50), default="")
