"""`jiesu knowledge load`: the shipped seed of consultation answers."""

from __future__ import annotations

import typer

from jiesu.clock import SystemClock
from jiesu.db import make_engine, make_session_factory
from jiesu.settings import get_settings
from jiesu.uow import UnitOfWork

knowledge_app = typer.Typer(no_args_is_help=True, help="Knowledge base for agent intake.")


@knowledge_app.command("load")
def load() -> None:
    """Add the shipped articles (居住证, 公积金提取, 医保参保 …); running it again adds nothing."""
    from jiesu.knowledge.service import load_seed

    engine = make_engine(get_settings().database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            added = load_seed(uow.session, SystemClock().now())
            uow.commit()
    finally:
        engine.dispose()
    typer.echo(f"{added} articles added")
