"""`jiesu audit verify` and `jiesu audit anchor`: the tamper checks an operator (or cron) runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Connection

from jiesu.clock import SystemClock
from jiesu.db import make_engine
from jiesu.settings import get_settings

audit_app = typer.Typer(no_args_is_help=True, help="Tamper evidence and access records.")


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """One read snapshot for the whole walk, so events committed meanwhile never look broken
    and an anchor's heads all belong to one moment."""
    engine = make_engine(get_settings().database_url)
    try:
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@audit_app.command("verify")
def verify_command(
    first: Annotated[int | None, typer.Option(help="first case id to check")] = None,
    last: Annotated[int | None, typer.Option(help="last case id to check")] = None,
    anchors: Annotated[
        list[Path] | None,
        typer.Option(
            "--anchors",
            help="an anchor file written by `jiesu audit anchor` (repeatable): every case it "
            "names must still have, at the anchored seq, the anchored hash",
        ),
    ] = None,
) -> None:
    """Check every case's event hash chain; exit 1 naming the first broken row."""
    from jiesu.audit import anchor
    from jiesu.audit.verify import verify

    span = (first or 1, last or 2**62) if first is not None or last is not None else None
    try:
        taken = [anchor.read(path) for path in anchors or ()]
    except anchor.AnchorError as exc:
        raise _fail(str(exc)) from exc
    with _snapshot() as conn:
        report = verify(conn, span)
        for kept in taken:
            report.problems += anchor.check(conn, kept, span)
    for problem in report.problems:
        typer.secho(f"BROKEN {problem}", fg=typer.colors.RED, err=True)
    if taken:
        typer.echo(f"{sum(len(a.heads) for a in taken)} anchored heads compared")
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(code=1)


@audit_app.command("anchor")
def anchor_command(
    out: Annotated[
        Path, typer.Option("--out", help="file to write (JSON); keep it outside the database")
    ],
    to_db: Annotated[
        str | None,
        typer.Option(
            "--to-db",
            help="also store the anchor in this database (SQLAlchemy URL), in its table "
            "jiesu_audit_anchor",
        ),
    ] = None,
) -> None:
    """Publish every case's chain head (seq and hash) with the time, for `verify --anchors`."""
    from jiesu.audit import anchor

    with _snapshot() as conn:
        taken = anchor.take(conn, SystemClock().now())
    anchor.write(taken, out)
    typer.echo(
        f"anchor of {len(taken.heads)} cases at {taken.at.isoformat(timespec='seconds')} "
        f"written to {out}; digest {taken.digest}"
    )
    if to_db:
        try:
            engine = make_engine(to_db)
        except sa.exc.ArgumentError as exc:  # a malformed URL or an unknown driver
            raise _fail(f"--to-db: {exc}") from exc
        try:
            anchor.publish(taken, engine)
        except sa.exc.SQLAlchemyError as exc:
            raise _fail(f"--to-db: the anchor could not be stored ({type(exc).__name__})") from exc
        finally:
            engine.dispose()
        typer.echo(f"anchor also stored in {engine.url.render_as_string(hide_password=True)}")
