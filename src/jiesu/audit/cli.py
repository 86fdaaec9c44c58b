"""`jiesu audit verify`: the tamper check an operator (or cron) runs."""

from __future__ import annotations

from typing import Annotated

import typer

from jiesu.db import make_engine
from jiesu.settings import get_settings

audit_app = typer.Typer(no_args_is_help=True, help="Tamper evidence and access records.")


@audit_app.command("verify")
def verify_command(
    first: Annotated[int | None, typer.Option(help="first case id to check")] = None,
    last: Annotated[int | None, typer.Option(help="last case id to check")] = None,
) -> None:
    """Check every case's event hash chain; exit 1 naming the first broken row."""
    from jiesu.audit.verify import verify

    engine = make_engine(get_settings().database_url)
    span = (first or 1, last or 2**62) if first is not None or last is not None else None
    try:
        # One snapshot for the whole walk, so events committed meanwhile never look broken.
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            report = verify(conn, span)
    finally:
        engine.dispose()
    for problem in report.problems:
        typer.secho(f"BROKEN {problem}", fg=typer.colors.RED, err=True)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(code=1)
