"""importers and notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

external_ref (where an imported case came from), the notification outbox and its attempts,
unit_contact (where units are told), knowledge_article (agent intake answers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import jiesu.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "knowledge_article",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category"], ["category.code"], name=op.f("fk_knowledge_article_category_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_article")),
        sa.UniqueConstraint("title", name=op.f("uq_knowledge_article_title")),
    )
    op.create_index(
        op.f("ix_knowledge_article_category"), "knowledge_article", ["category"], unique=False
    )
    op.create_table(
        "unit_contact",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_unit_contact_unit_code_unit")
        ),
        sa.PrimaryKeyConstraint("unit_code", name=op.f("pk_unit_contact")),
    )
    op.create_table(
        "external_ref",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_external_ref_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_ref")),
        sa.UniqueConstraint("source", "external_id", name="uq_external_ref_source_id"),
    )
    op.create_index(op.f("ix_external_ref_case_id"), "external_ref", ["case_id"], unique=False)
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", jiesu.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_notification_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index(op.f("ix_notification_case_id"), "notification", ["case_id"], unique=False)
    op.create_index(
        "ix_notification_due", "notification", ["status", "next_attempt_at"], unique=False
    )
    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_record.id"],
            name=op.f("fk_notification_attempt_case_id_case_record"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_attempt_notification_id_notification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
    )
    op.create_index(
        op.f("ix_notification_attempt_case_id"), "notification_attempt", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_notification_attempt_notification_id"),
        "notification_attempt",
        ["notification_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_notification_attempt_notification_id"), table_name="notification_attempt"
    )
    op.drop_index(op.f("ix_notification_attempt_case_id"), table_name="notification_attempt")
    op.drop_table("notification_attempt")
    op.drop_index("ix_notification_due", table_name="notification")
    op.drop_index(op.f("ix_notification_case_id"), table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_external_ref_case_id"), table_name="external_ref")
    op.drop_table("external_ref")
    op.drop_table("unit_contact")
    op.drop_index(op.f("ix_knowledge_article_category"), table_name="knowledge_article")
    op.drop_table("knowledge_article")
