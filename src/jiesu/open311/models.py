"""Open311 tables: client api_keys, per-category questions (service attributes) and what an
Open311 submission carries beyond the case itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, JSONType, UTCDateTime

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


class Open311Client(Base):
    """One api_key per client application; only its SHA-256 digest is stored."""

    __tablename__ = "open311_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Space-separated grants beyond the public feed (keys.SCOPES); "" for a submitting client.
    scopes: Mapped[str] = mapped_column(String(200), default="", server_default="")


class ServiceAttribute(Base):
    """A question asked for every category whose code starts with `category_prefix`
    (the same prefix rule as the time-limit policy), e.g. 供热 1704 → 室温."""

    __tablename__ = "service_attribute"
    __table_args__ = (UniqueConstraint("category_prefix", "code", name="uq_service_attribute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category_prefix: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str] = mapped_column(String(50))
    datatype: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # false: an informational line shown to the citizen, not a question (spec: `variable`).
    variable: Mapped[bool] = mapped_column(Boolean, default=True)
    datatype_description: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    order: Mapped[int] = mapped_column(Integer, default=1)
    # [{"key": "...", "name": "..."}] for the list datatypes.
    values: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)


class Open311Request(Base):
    """What came with an Open311 submission: the client, the public token, the answers to the
    service's questions, and personal data (email, device) that no GET ever shows."""

    __tablename__ = "open311_request"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(String(100), default="")
    device_id: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address_id: Mapped[str] = mapped_column(String(100), default="")
    zipcode: Mapped[str] = mapped_column(String(20), default="")
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
