"""Where an imported case came from: (source, external id) is unique, so a re-run adds nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class ExternalRef(Base):
    __tablename__ = "external_ref"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_external_ref_source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    # The source's own id, or "sha256:<hex>" of the row when the file has no id column.
    external_id: Mapped[str] = mapped_column(String(80))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
