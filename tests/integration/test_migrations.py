"""The schema is built only by migrations: they run up and down on both databases, and they
match the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from jiesu.db import make_engine
from jiesu.migrate import downgrade, upgrade
from jiesu.models import Base
from tests.conftest import Database, pg_or_skip, pg_scratch_url


def test_models_match_migrations(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_up_down_up_on_an_empty_database(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = pg_scratch_url("migrations")
        pg_or_skip(url)
    upgrade(url)
    engine = make_engine(url)
    try:
        assert "case_event" in sa.inspect(engine).get_table_names()
        downgrade(url, "base")
        assert "case_event" not in sa.inspect(engine).get_table_names()
        upgrade(url)
        assert {"case_record", "case_event", "unit"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
