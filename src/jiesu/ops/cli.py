"""`jiesu db backup|restore` and `jiesu jobs retention`, registered on the main CLI's groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiesu.clock import SystemClock
from jiesu.settings import get_settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="file to write (SQLite copy or pg_dump -Fc)")],
) -> None:
    """Copy the whole database to OUT, consistently, while the server keeps serving."""
    from jiesu.ops.backup import BackupError, backup

    try:
        info = backup(get_settings().database_url, out)
    except BackupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{info.kind} backup written to {info.path} ({info.size} bytes)")


def restore_command(
    path: Annotated[Path, typer.Argument(help="a file written by `jiesu db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask before replacing")] = False,
) -> None:
    """Replace the database's content with PATH's. Stop the server first."""
    from jiesu.ops.backup import BackupError, restore

    if not yes:
        typer.confirm("Replace everything in the database with the backup?", abort=True)
    try:
        info = restore(get_settings().database_url, path)
    except BackupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{info.kind} database restored from {info.path}; run `jiesu audit verify`")


def retention_command(
    days: Annotated[
        int | None, typer.Option(min=1, help="anonymise cases finished more than DAYS ago")
    ] = None,
) -> None:
    """Remove citizens' personal data of long-finished cases (the database, its free-text keys
    and the analytics lake); statistics and the audit chain stay intact."""
    from jiesu.analytics.scrub import scrub_lake
    from jiesu.ops.retention import anonymise_finished, compact
    from jiesu.uow import configured_uow

    settings = get_settings()
    keep = days if days is not None else settings.retention_days
    with configured_uow() as uow:
        result = anonymise_finished(uow.session, SystemClock().now(), keep)
        uow.commit()
        files = scrub_lake(uow.session, Path(settings.lake_dir), settings.tz, result.case_ids)
        uow.session.rollback()  # the lake's reads: nothing to keep
        compact(uow.session.get_bind().engine)
    typer.echo(result.summary() + (f"; {files} lake files rewritten" if files else ""))
