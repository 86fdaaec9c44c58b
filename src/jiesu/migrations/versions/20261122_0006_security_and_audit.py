"""security and audit

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

The case event log becomes a per-case hash chain (seq, chain_hash). Rows written before this
revision are chained here, in (case_id, id) order, so `jiesu audit verify` covers the whole
history from now on; the append-only trigger is lifted only for that backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jiesu.db
from jiesu.audit.chain import link

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = {
    "case_event_no_update": "BEFORE UPDATE",
    "case_event_no_delete": "BEFORE DELETE",
}
EVENT_COLUMNS = (
    "id, case_id, at, actor, role, unit_code, action, from_status, to_status, reason, payload"
)


def _lift_append_only(pg: bool) -> None:
    if pg:
        op.execute("ALTER TABLE case_event DISABLE TRIGGER case_event_no_change")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _restore_append_only(pg: bool) -> None:
    if pg:
        op.execute("ALTER TABLE case_event ENABLE TRIGGER case_event_no_change")
    else:
        for name, when in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} ON case_event "
                "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END"
            )


def _backfill_chain() -> None:
    bind = op.get_bind()
    table = sa.table(
        "case_event",
        sa.column("id", sa.Integer),
        sa.column("case_id", sa.Integer),
        sa.column("at", jiesu.db.UTCDateTime()),
        sa.column("actor", sa.String),
        sa.column("role", sa.String),
        sa.column("unit_code", sa.String),
        sa.column("action", sa.String),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("reason", sa.Text),
        sa.column("payload", jiesu.db.JSONType),
        sa.column("seq", sa.Integer),
        sa.column("chain_hash", sa.String),
    )
    rows = bind.execute(
        sa.select(*[table.c[c.strip()] for c in EVENT_COLUMNS.split(",")]).order_by(
            table.c.case_id, table.c.id
        )
    ).mappings()
    heads: dict[int, tuple[int, str | None]] = {}
    updates = []
    for row in rows:
        seq, prev = heads.get(row["case_id"], (0, None))
        values = {**row, "seq": seq + 1}
        values["chain_hash"] = link(prev, values)
        heads[row["case_id"]] = (values["seq"], values["chain_hash"])
        updates.append({"b_id": row["id"], "b_seq": values["seq"], "b_hash": values["chain_hash"]})
    if updates:
        bind.execute(
            table.update()
            .where(table.c.id == sa.bindparam("b_id"))
            .values(seq=sa.bindparam("b_seq"), chain_hash=sa.bindparam("b_hash")),
            updates,
        )


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_access_log_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index("ix_access_log_actor_at", ["actor", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_case_id"), ["case_id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", jiesu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_client_at", ["client", "at"], unique=False)
        batch_op.create_index("ix_login_attempt_username_at", ["username", "at"], unique=False)

    # Columns first nullable, filled, then NOT NULL. Adding columns is a plain ALTER on SQLite
    # (batch mode does not rebuild the table for it), so the triggers survive.
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    _lift_append_only(pg)
    _backfill_chain()
    if pg:
        op.alter_column("case_event", "seq", nullable=False)
        op.alter_column("case_event", "chain_hash", nullable=False)
        op.create_unique_constraint("uq_event_case_seq", "case_event", ["case_id", "seq"])
        _restore_append_only(pg)
    else:
        # A rebuild drops triggers, so they are re-created after it.
        with op.batch_alter_table("case_event", schema=None) as batch_op:
            batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column("chain_hash", existing_type=sa.String(length=64), nullable=False)
            batch_op.create_unique_constraint("uq_event_case_seq", ["case_id", "seq"])
        _restore_append_only(pg)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.drop_constraint("uq_event_case_seq", "case_event", type_="unique")
        op.drop_column("case_event", "chain_hash")
        op.drop_column("case_event", "seq")
    else:
        _lift_append_only(pg)
        with op.batch_alter_table("case_event", schema=None) as batch_op:
            batch_op.drop_constraint("uq_event_case_seq", type_="unique")
            batch_op.drop_column("chain_hash")
            batch_op.drop_column("seq")
        _restore_append_only(pg)
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_username_at")
        batch_op.drop_index("ix_login_attempt_client_at")
    op.drop_table("login_attempt")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_case_id"))
        batch_op.drop_index(batch_op.f("ix_access_log_at"))
        batch_op.drop_index("ix_access_log_actor_at")
    op.drop_table("access_log")
