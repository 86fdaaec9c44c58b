"""Engines that run catalogue SQL over the lake: DuckDB in-process (default) and Spark.

Both expose the lake's tables under the same view names (cases, events, callbacks, exclusions,
units, categories) and return plain rows, so the scoring never knows which engine counted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from jiesu.analytics.catalogue import render
from jiesu.analytics.lake import PARTITIONED, SCHEMAS, has_table, table_glob

ENGINES = ("duckdb", "spark")


class MetricEngine(Protocol):
    name: str

    def query(self, sql: str) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def run_metric(
    engine: MetricEngine, metric: str, month_from: str, month_to: str | None = None
) -> list[dict[str, Any]]:
    return engine.query(render(metric, month_from, month_to))


class DuckDBEngine:
    """DuckDB over the Parquet files; only built-in readers, so nothing is ever downloaded."""

    name = "duckdb"

    def __init__(self, lake: Path, *, threads: int | None = None, memory_limit: str = "4GB"):
        import duckdb

        self.lake = lake
        self.con = duckdb.connect(
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        for table, schema in SCHEMAS.items():
            if has_table(lake, table):
                hive = ", hive_partitioning = true, hive_types = {'month': VARCHAR}"
                opts = hive if table in PARTITIONED else ""
                glob = table_glob(lake, table).replace("'", "''")
                self.con.execute(
                    f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}'{opts})"
                )
            else:
                empty = schema.empty_table()
                if table in PARTITIONED:
                    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

                    empty = empty.append_column("month", pa.array([], pa.string()))
                self.con.register(f"{table}_empty", empty)
                self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM {table}_empty")

    def query(self, sql: str) -> list[dict[str, Any]]:
        # Through Arrow: timestamps come back as aware UTC datetimes without needing pytz.
        table = self.con.sql(sql).to_arrow_table()
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows

    def arrow(self, sql: str) -> Any:
        """The result as a pyarrow Table (export writes it straight back to Parquet)."""
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


def open_engine(name: str, lake: Path, **options: Any) -> MetricEngine:
    factories: dict[str, Callable[..., MetricEngine]] = {"duckdb": DuckDBEngine}
    if name == "spark":
        from jiesu.analytics.spark import SparkEngine

        factories["spark"] = SparkEngine
    if name not in factories:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {name!r}")
    return factories[name](lake, **options)
