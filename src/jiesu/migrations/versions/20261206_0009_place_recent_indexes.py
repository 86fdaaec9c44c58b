"""a place's most recent cases: (street, created_at) and (district, created_at)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.create_index("ix_case_street_created", ["street", "created_at"], unique=False)
        batch_op.create_index("ix_case_district_created", ["district", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_index("ix_case_district_created")
        batch_op.drop_index("ix_case_street_created")
