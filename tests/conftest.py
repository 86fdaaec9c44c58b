"""Fixtures: every database test runs on SQLite and on PostgreSQL, schema built by migrations.

SQLite: the migrated and seeded template file is copied for each test.
PostgreSQL: migrated and seeded once per run; each test's rows are truncated after it.
Set JIESU_TEST_POSTGRES_URL to point elsewhere; JIESU_REQUIRE_POSTGRES=1 (set by CI) turns an
unreachable PostgreSQL into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jiesu.app import create_app
from jiesu.clock import FixedClock
from jiesu.db import make_engine, make_session_factory
from jiesu.models import Base
from jiesu.settings import Settings
from jiesu.uow import UnitOfWork
from tests.databases import migrate_and_seed, recreate_pg

PG_URL = os.environ.get(
    "JIESU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jiesu_test"
)
REQUIRE_PG = os.environ.get("JIESU_REQUIRE_POSTGRES") == "1"
# Monday 12 October 2026, 10:00 in Beijing: a working day after the National Day holiday.
T0 = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)


@dataclass
class Database:
    url: str
    engine: sa.Engine
    factory: sessionmaker[Session]

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory)


def _seed(url: str) -> None:
    migrate_and_seed(url, users_at=T0)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _seed(f"sqlite:///{path}")
    return path


def pg_scratch_url(suffix: str) -> str:
    """A scratch database beside the test database, so parallel runs with their own
    JIESU_TEST_POSTGRES_URL never share one."""
    base = sa.engine.make_url(PG_URL)
    return base.set(database=f"{base.database}_{suffix}").render_as_string(hide_password=False)


def pg_or_skip(url: str) -> None:
    try:
        recreate_pg(url)
    except sa.exc.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {url}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {url}")


@dataclass(frozen=True)
class SeededPg:
    url: str
    # Tables the seed left empty: what a test adds there is truncated after it. Reference
    # data (units, taxonomy, policy, users) stays for the whole run.
    operational: tuple[str, ...]


@pytest.fixture(scope="session")
def pg_seeded() -> SeededPg:
    pg_or_skip(PG_URL)
    _seed(PG_URL)
    engine = make_engine(PG_URL)
    with engine.connect() as conn:
        empty = tuple(
            t.name
            for t in Base.metadata.sorted_tables
            if conn.scalar(sa.select(sa.func.count()).select_from(t)) == 0
        )
    engine.dispose()
    return SeededPg(PG_URL, empty)


def truncate_pg(conn: sa.Connection, tables: str) -> None:
    """Empty tables between tests. case_event refuses TRUNCATE (migration 0012); the test
    database's superuser switches triggers off for this one transaction, as only a
    superuser could in production."""
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "jiesu.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        operational: tuple[str, ...] = ()
    else:
        seeded: SeededPg = request.getfixturevalue("pg_seeded")
        url, operational = seeded.url, seeded.operational
    engine = make_engine(url)
    try:
        yield Database(url, engine, make_session_factory(engine))
    finally:
        if operational:
            with engine.begin() as conn:
                truncate_pg(conn, ", ".join(f'"{t}"' for t in operational))
        engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def client(db: Database, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db.url), clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.engine.dispose()
