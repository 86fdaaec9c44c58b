"""`jiesu knowledge load`: the shipped seed of consultation answers."""

from __future__ import annotations

import typer

from jiesu.clock import SystemClock
from jiesu.uow import configured_uow

knowledge_app = typer.Typer(no_args_is_help=True, help="Knowledge base for agent intake.")


@knowledge_app.command("load")
def load() -> None:
    """Add the shipped articles (居住证, 公积金提取, 医保参保 …); running it again adds nothing."""
    from jiesu.knowledge.service import load_seed

    with configured_uow() as uow:
        added = load_seed(uow.session, SystemClock().now())
        uow.commit()
    typer.echo(f"{added} articles added")
