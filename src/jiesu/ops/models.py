"""What each retention run did: one row per run, so an auditor sees when data was anonymised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class RetentionRun(Base):
    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Cases finished before this instant had their citizen's data anonymised.
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    days: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    notifications: Mapped[int] = mapped_column(Integer)
    open311_requests: Mapped[int] = mapped_column(Integer)
    ratings: Mapped[int] = mapped_column(Integer)
