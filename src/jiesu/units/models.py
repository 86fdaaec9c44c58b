"""Organisation and taxonomy tables: units referred to by code everywhere."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base

UNIT_KINDS = ("district", "street", "community", "department", "enterprise")


class Unit(Base):
    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("unit.code"), index=True, default=None
    )
    aliases: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Category(Base):
    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("category.code"), index=True, default=None
    )
    livelihood_dimension: Mapped[str] = mapped_column(String(20), default="")
    # Empty means "normal": only urgent/prompt items carry a default urgency.
    urgency: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
