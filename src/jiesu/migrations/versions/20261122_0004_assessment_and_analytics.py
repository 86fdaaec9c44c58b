"""assessment and analytics

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

assessment_policy (weights per unit kind and period, seeded with the DESIGN §6 defaults),
assessment_snapshot and assessment_row (frozen months, versioned).
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import jiesu.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    policy = op.create_table(
        "assessment_policy",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_kind", sa.String(length=20), nullable=False),
        sa.Column("effective_from", sa.String(length=7), nullable=False),
        sa.Column("response_weight", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("resolution_weight", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("satisfaction_weight", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("basically_factor", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("partly_factor", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("min_cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_policy")),
        sa.UniqueConstraint("unit_kind", "effective_from", name="uq_assessment_policy_kind_from"),
    )
    op.create_table(
        "assessment_snapshot",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("engine", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lake_refreshed_at", sa.String(length=40), nullable=True),
        sa.Column("policy", JSON, nullable=False),
        sa.Column("definitions", JSON, nullable=False),
        sa.Column("diff", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_snapshot")),
        sa.UniqueConstraint("month", "version", name="uq_assessment_snapshot_version"),
    )
    op.create_index(
        op.f("ix_assessment_snapshot_month"), "assessment_snapshot", ["month"], unique=False
    )
    op.create_table(
        "assessment_row",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_group", sa.String(length=20), nullable=False),
        sa.Column("assessed", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("partly", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("basically", sa.Integer(), nullable=False),
        sa.Column("response_rate", sa.Float(), nullable=False),
        sa.Column("resolution_rate", sa.Float(), nullable=False),
        sa.Column("satisfaction_rate", sa.Float(), nullable=False),
        sa.Column("composite", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["assessment_snapshot.id"],
            name=op.f("fk_assessment_row_snapshot_id_assessment_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_row")),
    )
    op.create_index(
        op.f("ix_assessment_row_snapshot_id"), "assessment_row", ["snapshot_id"], unique=False
    )
    # DESIGN §6 defaults, as data an admin may supersede with a newer row.
    op.bulk_insert(
        policy,
        [
            {
                "unit_kind": "*",
                "effective_from": "2000-01",
                "response_weight": Decimal("0.10"),
                "resolution_weight": Decimal("0.45"),
                "satisfaction_weight": Decimal("0.45"),
                "basically_factor": Decimal("0.6"),
                "partly_factor": Decimal("0"),
                "min_cases": 10,
            }
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assessment_row_snapshot_id"), table_name="assessment_row")
    op.drop_table("assessment_row")
    op.drop_index(op.f("ix_assessment_snapshot_month"), table_name="assessment_snapshot")
    op.drop_table("assessment_snapshot")
    op.drop_table("assessment_policy")
