"""one current citizen rating per case (earlier ones superseded); TRUNCATE case_event refused

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jiesu.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = "superseded_at IS NULL"

# The row trigger of 0001 does not fire on TRUNCATE, which empties the table in one
# statement; a statement-level trigger calling the same refusal closes that door.
# SQLite has no TRUNCATE (its "DELETE FROM t" without WHERE fires the row triggers of 0001).
NO_TRUNCATE_PG = (
    "CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON case_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_event_append_only()"
)


def upgrade() -> None:
    with op.batch_alter_table("citizen_rating", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("superseded_at", jiesu.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Ratings posted more than once before this revision: the newest of each case stays
    # current, the earlier ones become its history.
    op.execute(
        "UPDATE citizen_rating SET superseded_at = at WHERE id NOT IN "
        "(SELECT max(id) FROM citizen_rating GROUP BY case_id)"
    )
    op.create_index(
        "ux_citizen_rating_current",
        "citizen_rating",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text(CURRENT),
        postgresql_where=sa.text(CURRENT),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NO_TRUNCATE_PG)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_no_truncate ON case_event")
    op.drop_index("ux_citizen_rating_current", table_name="citizen_rating")
    with op.batch_alter_table("citizen_rating", schema=None) as batch_op:
        batch_op.drop_column("superseded_at")
