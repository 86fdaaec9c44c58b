"""Knowledge-base articles that agents answer consultations from (直接办结)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class Article(Base):
    __tablename__ = "knowledge_article"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("category.code"), index=True, default=None
    )
    # Space-separated words a caller might use that the title does not contain.
    keywords: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
