"""Fresh databases for tests and benchmarks: the schema by migrations, then the shipped data."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from jiesu.bootstrap import bootstrap, create_demo_users
from jiesu.db import make_engine, make_session_factory
from jiesu.migrate import upgrade
from jiesu.uow import UnitOfWork


def recreate_pg(url: str) -> None:
    """Drop and create the PostgreSQL database named in url (OperationalError if it is down)."""
    target = sa.engine.make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def migrate_and_seed(url: str, *, users_at: datetime | None = None) -> None:
    """Migrations, the shipped organisation and policy, and (with users_at) the demo logins."""
    upgrade(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        bootstrap(uow.session)
        if users_at is not None:
            create_demo_users(uow.session, users_at)
        uow.commit()
    engine.dispose()
