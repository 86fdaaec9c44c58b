"""Parity: every metric of the catalogue gives the same rows on DuckDB and on Spark (local
mode) over the same generated lake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from jiesu.analytics.catalogue import catalogue
from jiesu.analytics.engines import DuckDBEngine, run_metric
from jiesu.demo.generate import generate

pytestmark = [
    pytest.mark.slow,
    # py4j and Spark's Python workers leave sockets to the garbage collector.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lake") / "lake"
    generate(8_000, out, end=date(2026, 10, 31), months=3, seed=7, workers=1)
    return out


# One SparkSession for the whole test session: starting the JVM is most of the cost.
@pytest.fixture(scope="session")
def spark_engine(lake: Path) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from jiesu.analytics.spark import SparkEngine, stop_spark

    engine = SparkEngine(lake, master="local[1]")
    yield engine
    engine.close()
    stop_spark()


def normal(value: Any) -> Any:
    # Spark hands back naive local datetimes, DuckDB aware UTC ones: compare the instant.
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return int(value) if float(value).is_integer() else float(value)


def rows(result: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple((k, normal(v)) for k, v in sorted(r.items())) for r in result),
        key=repr,
    )


@pytest.mark.parametrize("metric", sorted(catalogue()))
def test_metric_parity(metric: str, lake: Path, spark_engine: Any) -> None:
    duck = DuckDBEngine(lake)
    try:
        expected = rows(run_metric(duck, metric, "2026-09", "2026-10"))
    finally:
        duck.close()
    got = rows(run_metric(spark_engine, metric, "2026-09", "2026-10"))
    assert len(expected) > 10  # a real comparison, not two empty lists
    assert got == expected
