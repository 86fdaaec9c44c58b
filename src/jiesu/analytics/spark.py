"""The Spark engine: the same catalogue SQL over the same Parquet files, for a city or a
province that outgrows one machine (DESIGN §8). `JIESU_SPARK_MASTER` names the cluster
(default: local mode); the lake directory must be readable by every executor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from jiesu.analytics.lake import PARTITIONED, SCHEMAS, has_table

_SPARK_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INT",
    pa.string(): "STRING",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
}


def _ddl(schema: pa.Schema, partitioned: bool) -> str:
    cols = []
    for f in schema:
        kind = "TIMESTAMP" if pa.types.is_timestamp(f.type) else _SPARK_TYPES[f.type]
        cols.append(f"`{f.name}` {kind}")
    if partitioned:
        cols.append("`month` STRING")
    return ", ".join(cols)


def spark_session(master: str | None = None, app_name: str = "jiesu") -> Any:
    """One session per process (Spark allows no more); created on first use."""
    from pyspark.sql import SparkSession

    if master is None:
        from jiesu.settings import get_settings

        master = get_settings().spark_master
    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        # Month partitions are names like 2026-10: keep them strings, never guess a type.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Small shuffles: a month of one city is millions of rows, not billions.
        .config("spark.sql.shuffle.partitions", "1" if master.startswith("local[1]") else "8")
        .config("spark.default.parallelism", "1" if master.startswith("local[1]") else "8")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "true")
        .getOrCreate()
    )


class SparkEngine:
    name = "spark"

    def __init__(self, lake: Path, *, master: str | None = None) -> None:
        self.lake = lake
        self.spark = spark_session(master)
        for table, schema in SCHEMAS.items():
            partitioned = table in PARTITIONED
            if has_table(lake, table):
                reader = self.spark.read
                if partitioned:
                    reader = reader.option("basePath", str(lake / table))
                df = reader.parquet(str(lake / table))
            else:
                df = self.spark.createDataFrame([], _ddl(schema, partitioned))
            df.createOrReplaceTempView(table)

    def query(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def close(self) -> None:
        for table in SCHEMAS:
            self.spark.catalog.dropTempView(table)


def stop_spark() -> None:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
