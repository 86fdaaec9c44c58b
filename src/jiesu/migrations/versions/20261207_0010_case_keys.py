"""case keys: the free text of case events sealed under a per-case key (crypto-shredding)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Events written before this revision hold their free text in plain; each case that has some gets
its key here, the text is sealed (cases/personal.py) and the case's chain is recomputed over
the sealed rows, so that retention can shred every case's history alike. The append-only
trigger is lifted only for that, as revision 0006 did for the first chaining. A case whose
chain does not verify is left exactly as it is (sealing it would re-hash the tampering away):
`jiesu audit verify` goes on reporting it, and its text stays in plain.
"""

import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import jiesu.db
from jiesu.audit.chain import link
from jiesu.cases import personal

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
SQLITE_TRIGGERS = {
    "case_event_no_update": "BEFORE UPDATE",
    "case_event_no_delete": "BEFORE DELETE",
}
BATCH = 2000
EVENTS = sa.table(
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
KEYS = sa.table("case_key", sa.column("case_id", sa.Integer), sa.column("key", sa.LargeBinary))
# (case_id, its events in chain order, its key or None) → new (reason, payload) per event,
# or None to leave the case alone.
Transform = Callable[[int, list[dict[str, Any]], bytes | None], list[tuple[str, Any]] | None]


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


def _intact(chain: list[dict[str, Any]]) -> bool:
    prev = None
    for expected, row in enumerate(chain, start=1):
        if row["seq"] != expected or link(prev, row) != row["chain_hash"]:
            return False
        prev = row["chain_hash"]
    return True


def _rewrite(transform: Transform) -> None:
    """Apply `transform` to every intact chain and re-link what it changed, case by case."""
    bind = op.get_bind()
    after = 0
    while True:
        ids = list(
            bind.scalars(
                sa.select(EVENTS.c.case_id)
                .where(EVENTS.c.case_id > after)
                .group_by(EVENTS.c.case_id)
                .order_by(EVENTS.c.case_id)
                .limit(BATCH)
            )
        )
        if not ids:
            return
        after = ids[-1]
        keys = {
            case_id: key
            for case_id, key in bind.execute(
                sa.select(KEYS.c.case_id, KEYS.c.key).where(KEYS.c.case_id.in_(ids))
            )
        }
        chains: dict[int, list[dict[str, Any]]] = {}
        for row in bind.execute(
            sa.select(EVENTS)
            .where(EVENTS.c.case_id.in_(ids))
            .order_by(EVENTS.c.case_id, EVENTS.c.seq, EVENTS.c.id)
        ).mappings():
            chains.setdefault(row["case_id"], []).append(dict(row))
        updates = []
        for case_id, chain in chains.items():
            if not _intact(chain):
                log.warning("case %s: its event chain does not verify; left unchanged", case_id)
                continue
            new = transform(case_id, chain, keys.get(case_id))
            if new is None:
                continue
            prev = None
            for old, (reason, payload) in zip(chain, new, strict=True):
                prev = link(prev, {**old, "reason": reason, "payload": payload})
                updates.append(
                    {"b_id": old["id"], "b_reason": reason, "b_payload": payload, "b_hash": prev}
                )
        if updates:
            bind.execute(
                EVENTS.update()
                .where(EVENTS.c.id == sa.bindparam("b_id"))
                .values(
                    reason=sa.bindparam("b_reason"),
                    payload=sa.bindparam("b_payload"),
                    chain_hash=sa.bindparam("b_hash"),
                ),
                updates,
            )


def _seal(case_id: int, chain: list[dict[str, Any]], key: bytes | None) -> Any:
    if not any(personal.needs_key(r["reason"], r["payload"]) for r in chain):
        return None
    key = key or personal.new_key()
    op.get_bind().execute(KEYS.insert().values(case_id=case_id, key=key))
    return [
        personal.seal_fields(key, case_id, r["reason"], r["payload"])
        if personal.needs_key(r["reason"], r["payload"])
        else (r["reason"], r["payload"])
        for r in chain
    ]


def _open(case_id: int, chain: list[dict[str, Any]], key: bytes | None) -> Any:
    if key is None:
        return None
    return [personal.open_event({case_id: key}, case_id, r["reason"], r["payload"]) for r in chain]


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "case_key",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_case_key_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_key")),
    )
    _lift_append_only(pg)
    _rewrite(_seal)
    _restore_append_only(pg)


def downgrade() -> None:
    """Text whose key retention has shredded stays sealed: it cannot be brought back."""
    pg = op.get_bind().dialect.name == "postgresql"
    _lift_append_only(pg)
    _rewrite(_open)
    _restore_append_only(pg)
    op.drop_table("case_key")
