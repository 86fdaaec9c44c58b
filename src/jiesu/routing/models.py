"""派单目录: routing rules as versioned data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class RoutingRule(Base):
    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category_prefix: Mapped[str] = mapped_column(String(32), default="", index=True)
    # Empty area = city-wide; else a district (6 digits) or street (9 digits) code.
    area_code: Mapped[str] = mapped_column(String(32), default="")
    # A unit code, or @street / @district: the case's own place (属地).
    target: Mapped[str] = mapped_column(String(32))
    co_targets: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    # A rule is never edited or deleted: it is retired from a date on, and its history stays.
    retired_from: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
