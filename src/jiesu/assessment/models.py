"""Assessment tables: policy rows (weights per unit kind and period) and frozen snapshots."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, JSONType, UTCDateTime


class AssessmentPolicy(Base):
    """考评权重: one row per unit kind ('*' for all) and first month in force."""

    __tablename__ = "assessment_policy"
    __table_args__ = (
        UniqueConstraint("unit_kind", "effective_from", name="uq_assessment_policy_kind_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_kind: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    response_weight: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    resolution_weight: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    satisfaction_weight: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    basically_factor: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    partly_factor: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    min_cases: Mapped[int] = mapped_column(Integer)


class AssessmentSnapshot(Base):
    """A frozen month: its figures, the policy and metric definitions that produced them, and
    the diff against the version before. Never updated; a change makes a new version."""

    __tablename__ = "assessment_snapshot"
    __table_args__ = (UniqueConstraint("month", "version", name="uq_assessment_snapshot_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    engine: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    lake_refreshed_at: Mapped[str | None] = mapped_column(String(40), default=None)
    policy: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    definitions: Mapped[dict[str, Any]] = mapped_column(JSONType)
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class AssessmentRow(Base):
    __tablename__ = "assessment_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("assessment_snapshot.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit_group: Mapped[str] = mapped_column(String(20))
    assessed: Mapped[int] = mapped_column(Integer)
    responded: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    partly: Mapped[int] = mapped_column(Integer)
    satisfied: Mapped[int] = mapped_column(Integer)
    basically: Mapped[int] = mapped_column(Integer)
    response_rate: Mapped[float] = mapped_column(Float)
    resolution_rate: Mapped[float] = mapped_column(Float)
    satisfaction_rate: Mapped[float] = mapped_column(Float)
    composite: Mapped[float] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer, default=None)
