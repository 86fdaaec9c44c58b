"""Inserting many rows of one table at once, below the ORM: what a registration group writes.

On PostgreSQL a table's rows go in as one INSERT … SELECT FROM json_populate_recordset(one JSON
parameter): one statement text whatever the number of rows (psycopg prepares it once), one
round trip and one executor run for all rows. A multi-row INSERT … RETURNING has a new text for
each size (and psycopg parses any statement of more than 50 parameters anew on every run);
executemany sends and runs one statement per row. Elsewhere (SQLite) SQLAlchemy's own
executemany INSERT. Every constraint, index and trigger of the table still applies.

(The importers' much larger batches use COPY: importers/bulk.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import Dialect, Table, TextClause, insert, text
from sqlalchemy import types as sa_types
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from jiesu.db import Base


def table_of(model: type[Base] | Table) -> Table:
    return model if isinstance(model, Table) else cast(Table, model.__table__)


def insert_returning_ids(
    session: Session, model: type[Base], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert rows of a table with an integer `id` from its sequence; their ids, in the rows'
    order. On PostgreSQL the ids are taken from the sequence first, so that the rows can go in
    as one statement (`insert_rows`)."""
    table = table_of(model)
    if session.get_bind().dialect.name == "postgresql":
        ids = [int(i) for i in session.scalars(_next_ids(table.name), {"n": len(rows)})]
        insert_rows(session, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(returning, rows))


@lru_cache(maxsize=16)
def _next_ids(table: str) -> TextClause:
    return text(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
    )


def insert_rows(session: Session, model: type[Base] | Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns, as SQLAlchemy's INSERT would store them: on
    PostgreSQL as one statement reading the rows from one JSON parameter (the columns'
    Python-side defaults filled in, their bind processing applied), elsewhere as executemany."""
    if not rows:
        return
    table = table_of(model)
    dialect = session.get_bind().dialect
    names = tuple(rows[0])
    if dialect.name != "postgresql" or any(len(row) != len(names) for row in rows):
        session.execute(insert(table), rows)
        return
    bulk = _bulk_insert(table, names, dialect)
    if bulk is None:  # a default only SQLAlchemy's own INSERT can compute
        session.execute(insert(table), rows)
        return
    full = [{**row, **{name: make(None) for name, make in bulk.defaults}} for row in rows]
    for name, process in bulk.processors:
        for row in full:
            row[name] = process(row[name])
    # orjson, not the standard encoder: in the stacks `bench/serve/groups.py --spy FILE` wrote,
    # encoding these rows (the proposals' nested JSON, the texts) took as long as running the
    # statement.
    payload = orjson.dumps(full, default=_json_value, option=_ORJSON)
    session.connection().exec_driver_sql(bulk.sql, (payload.decode(),))


# Datetimes through _json_value (a naive one is refused, as before); numpy's scalars as numbers.
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SERIALIZE_NUMPY


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a row to insert")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Bulk:
    sql: str
    defaults: list[tuple[str, _Processor]]  # columns left out, with a Python-side default
    processors: list[tuple[str, _Processor]]  # columns whose values SQLAlchemy processes


def _constant(value: Any) -> _Processor:
    return lambda _ctx: value


@lru_cache(maxsize=64)
def _bulk_insert(table: Table, names: tuple[str, ...], dialect: Dialect) -> _Bulk | None:
    """INSERT … SELECT FROM json_populate_recordset(NULL::table, %s): the rows as one JSON
    array, each member read as a row of the table (JSON null is SQL NULL, a JSON column takes
    the member's value as it is). Columns left out that have a Python-side default get it.
    A JSON column's value goes into the array as it is; other columns' bind processing (UTC
    datetimes) is applied first. None where SQLAlchemy's own INSERT would differ: a column left
    out whose default is an SQL expression, or a JSON column that stores None as JSON null."""
    columns = [table.c[name] for name in names]
    defaults: list[tuple[str, _Processor]] = []
    for column in table.c:
        default = column.default
        if column.name in names or default is None:
            continue
        if isinstance(default, ScalarElementColumnDefault):
            defaults.append((column.name, _constant(default.arg)))
        elif isinstance(default, CallableColumnDefault):
            defaults.append((column.name, default.arg))
        else:
            return None
        columns.append(column)
    processors: list[tuple[str, _Processor]] = []
    for column in columns:
        impl = column.type.dialect_impl(dialect)
        if isinstance(impl, sa_types.JSON):
            if not impl.none_as_null:
                return None
            continue
        process = impl.bind_processor(dialect)
        if process is not None:
            processors.append((column.name, process))
    listed = ", ".join(c.name for c in columns)
    sql = (
        f"INSERT INTO {table.name} ({listed}) SELECT {listed} "
        f"FROM json_populate_recordset(NULL::{table.name}, CAST(%s AS json))"
    )
    return _Bulk(sql, defaults, processors)
