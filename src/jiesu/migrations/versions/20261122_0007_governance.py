"""governance

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

retention_run: one row per `jiesu jobs retention` run (what was anonymised, when, by which cutoff).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jiesu.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ran_at", jiesu.db.UTCDateTime(), nullable=False),
        sa.Column("cutoff", jiesu.db.UTCDateTime(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("open311_requests", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_run")),
    )


def downgrade() -> None:
    op.drop_table("retention_run")
