"""web sessions and consoles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jiesu.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_web_session_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_session")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_session_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "citizen_rating",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contacted", sa.Boolean(), nullable=False),
        sa.Column("resolved", sa.String(length=10), nullable=False),
        sa.Column("satisfaction", sa.String(length=15), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_citizen_rating_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_rating")),
    )
    with op.batch_alter_table("citizen_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_rating_case_id"), ["case_id"], unique=False)

    op.create_table(
        "citizen_photo",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_citizen_photo_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_photo")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_citizen_photo_stored_name")),
    )
    with op.batch_alter_table("citizen_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_photo_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("citizen_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_photo_case_id"))
    op.drop_table("citizen_photo")
    with op.batch_alter_table("citizen_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_rating_case_id"))
    op.drop_table("citizen_rating")
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_web_session_user_id"))
    op.drop_table("web_session")
