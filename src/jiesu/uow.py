"""One unit of work owns each transaction: services never commit on their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from jiesu.errors import Conflict


class UnitOfWork:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._after_commit: list[Callable[[], None]] = []
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            try:
                self.session.close()
            except DBAPIError as lost:
                # The connection died after the work (a database restart): the server has
                # dropped the transaction and the pool the connection; nothing is left to do.
                if not lost.connection_invalidated:
                    raise

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Run hook (a notification, say) only once the change is durable."""
        self._after_commit.append(hook)

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise Conflict(
                "the case was changed by someone else; reload it and try again",
                code="stale_version",
            ) from exc
        except (IntegrityError, OperationalError):
            self.session.rollback()
            raise
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def configured_uow() -> Iterator[UnitOfWork]:
    """A unit of work on the configured database (JIESU_DATABASE_URL), for commands and jobs;
    the engine is disposed when the block ends."""
    from jiesu.db import make_engine, make_session_factory
    from jiesu.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            yield uow
    finally:
        engine.dispose()
