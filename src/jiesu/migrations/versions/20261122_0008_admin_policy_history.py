"""admin policy history

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jiesu.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_change")),
    )
    with op.batch_alter_table("admin_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_change_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_change_kind"), ["kind"], unique=False)
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retired_from", jiesu.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.drop_column("retired_from")
    with op.batch_alter_table("admin_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_change_kind"))
        batch_op.drop_index(batch_op.f("ix_admin_change_at"))
    op.drop_table("admin_change")
