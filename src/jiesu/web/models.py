"""Tables of the web consoles: login sessions, and what citizens send through their own page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from jiesu.db import Base, UTCDateTime


class WebSession(Base):
    """A browser login. Only the SHA-256 of the cookie value is stored, like API tokens."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CitizenRating(Base):
    """The citizen's own answer to the three callback questions, given on the tracker.

    The workflow lets only the callback role record a callback, so this waits as a pending
    rating that the callback agent sees and confirms (or overrides) with one click.

    One rating per case counts: the newest. A citizen who rates again supersedes the earlier
    rating (kept, with superseded_at, as the case's rating history); the partial unique index
    lets the database itself refuse a second current rating, so a flood of posts never puts
    more than one answer before the callback agent or into the assessment.
    """

    __tablename__ = "citizen_rating"
    __table_args__ = (
        Index(
            "ux_citizen_rating_current",
            "case_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    contacted: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[str] = mapped_column(String(10))
    satisfaction: Mapped[str] = mapped_column(String(15))
    note: Mapped[str] = mapped_column(Text, default="")
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CitizenPhoto(Base):
    """A photo sent with a request: stored under a random name outside the static folder."""

    __tablename__ = "citizen_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdminChange(Base):
    """Who changed which policy or catalog row, and when (the admin console writes one per
    change, in the change's own transaction). Tables with version rows (time limits, routing
    rules, weights) keep their history in those rows; this log adds the who, and is the only
    history of tables that are edited in place (taxonomy, users, calendar, Open311 clients)."""

    __tablename__ = "admin_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class RateCounter(Base):
    """How many tries one key (an address, a case number) made in one window of one limit
    (jiesu.web.ratelimit). In the database, so every worker and host counts the same tries."""

    __tablename__ = "rate_counter"

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # When the window is over and the row may go (the limiter deletes such rows).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
