"""The importers' bulk writes, below the ORM: COPY on PostgreSQL, the driver's executemany on
SQLite. Every constraint, index and trigger of the tables still applies; what is skipped is
SQLAlchemy's per-row work (building parameters, running type processors one value at a time,
INSERT … RETURNING one row at a time on SQLite), which was most of an import's time.

bench/intake/bench_import.py measures it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import DateTime, Table, TypeDecorator, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from jiesu.cases.models import Case
from jiesu.db import Base
from jiesu.importers.models import ExternalRef


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def known_ids(session: Session, source: str, ids: list[str]) -> set[str]:
    """The ids among `ids` that were imported from `source` before (by any run or batch)."""
    if _dialect(session) == "postgresql":
        # One array parameter joined to the unique index: an index probe per id whatever the
        # statistics say. The IN list of one parameter per id it replaces was planned badly
        # while autovacuum had not yet analysed the new rows (psycopg prepares a statement it
        # sees often): 4-8 s a batch from about 60k imported rows on (bench/intake).
        rows = session.execute(
            text(
                "SELECT r.external_id FROM external_ref r "
                "JOIN unnest(CAST(:ids AS varchar[])) AS k(id) ON r.external_id = k.id "
                "WHERE r.source = :source"
            ),
            {"ids": ids, "source": source},
        )
        return {r[0] for r in rows}
    return set(
        session.scalars(
            select(ExternalRef.external_id).where(
                ExternalRef.source == source, ExternalRef.external_id.in_(ids)
            )
        )
    )


def insert_cases(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert case rows (without ids) and return their ids in the order given."""
    if not rows:
        return []
    table = cast(Table, Case.__table__)
    if _dialect(session) == "postgresql":
        # Ids from the sequence first, then COPY: several times faster than INSERT … RETURNING.
        ids = list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('case_record', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            )
        )
        insert_rows(session, table, [{"id": i, **r} for i, r in zip(ids, rows, strict=True)])
        return ids
    # The first row the ordinary way: from then on this transaction holds SQLite's only write
    # lock until it commits, so no one else can add a case, and every id above the first one
    # (SQLite gave it max(id) + 1) is free for the rest. The primary key would refuse a clash
    # rather than merge two cases.
    first = session.execute(insert(table).returning(table.c.id), rows[0]).scalar_one()
    ids = list(range(first, first + len(rows)))
    insert_rows(session, table, [{"id": i, **r} for i, r in zip(ids[1:], rows[1:], strict=True)])
    return ids


def insert_rows(session: Session, model: type[Base] | Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts with the keys of the first one) into a mapped class's table."""
    if not rows:
        return
    table = model if isinstance(model, Table) else cast(Table, model.__table__)
    columns = list(rows[0])
    if _dialect(session) == "postgresql":
        _copy(session, table, columns, rows)
    else:
        _executemany(session, table, columns, rows)


def _copy(session: Session, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    # Binary COPY with the columns' own types: the server parses no text and psycopg dumps
    # each value in C (a dict straight to jsonb); it took a third off the client's time.
    oids: dict[str, int] = {
        name: oid
        for name, oid in session.execute(
            text(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = CAST(:t AS regclass)"
            ),
            {"t": table.name},
        )
    }
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        copy.set_types([oids[c] for c in columns])
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _executemany(
    session: Session, table: Table, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    dialect = session.get_bind().dialect
    # The same conversions SQLAlchemy would apply (aware UTC → naive text, JSON → text, …),
    # looked up once per column instead of run through the ORM per row.
    procs: list[Callable[[Any], Any] | None] = []
    for c in columns:
        proc = table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
        # A case's times recur in its events and assignment: convert each instant once.
        procs.append(_memo(proc) if proc and _is_datetime(table.c[c].type) else proc)
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    plan = list(zip(columns, procs, strict=True))
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    dbapi.executemany(sql, ([row[c] if p is None else p(row[c]) for c, p in plan] for row in rows))


def _is_datetime(kind: TypeEngine[Any]) -> bool:
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, DateTime)


def _memo(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    done: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        if value in done:
            return done[value]
        out = done[value] = proc(value)
        return out

    return run
