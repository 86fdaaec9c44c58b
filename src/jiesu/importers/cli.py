"""`jiesu import nyc311 | messages`: bring a centre's history in."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, get_args

import typer

from jiesu.cases.schemas import Channel, RequestType
from jiesu.clock import SystemClock
from jiesu.importers.common import ImportReport, RowError
from jiesu.settings import get_settings
from jiesu.sheets import csv_row
from jiesu.uow import configured_uow

import_app = typer.Typer(no_args_is_help=True, help="Import history: NYC 311, message boards.")
SHOWN = 20  # bad rows printed; --bad-rows FILE writes them all


def _report(report: ImportReport, bad_rows: Path | None) -> None:
    for bad in report.bad[:SHOWN]:
        typer.echo(f"line {bad.line}: {bad.reason}", err=True)
    if len(report.bad) > SHOWN:
        more = len(report.bad) - SHOWN
        typer.echo(f"… {more} more bad rows (--bad-rows FILE lists them all)", err=True)
    if bad_rows is not None:
        with bad_rows.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "reason"])
            writer.writerows(csv_row((b.line, b.reason)) for b in report.bad)
    if report.unmapped:
        top = ", ".join(f"{k} ({n})" for k, n in report.unmapped.most_common(10))
        typer.echo(f"unmapped labels → catch-all category: {top}", err=True)
    typer.echo(report.summary())


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


BadRowsOpt = Annotated[
    Path | None, typer.Option("--bad-rows", help="write every bad row (line, reason) to CSV")
]


@import_app.command("nyc311")
def nyc311(path: Path, bad_rows: BadRowsOpt = None) -> None:
    """Import an NYC Open Data 311 CSV (agencies become NYC-<AGENCY> units)."""
    from jiesu.importers.nyc311 import import_nyc311

    try:
        with configured_uow() as uow:
            report = import_nyc311(uow, SystemClock(), path)
    except RowError as exc:
        raise _fail(str(exc)) from exc
    _report(report, bad_rows)


@import_app.command("messages")
def messages(
    path: Path,
    text_column: Annotated[
        list[str], typer.Option("--text-column", help="repeat to join several (title, detail)")
    ],
    time_column: Annotated[str, typer.Option("--time-column")],
    label_column: Annotated[str | None, typer.Option("--label-column")] = None,
    id_column: Annotated[str | None, typer.Option("--id-column")] = None,
    reply_column: Annotated[str | None, typer.Option("--reply-column")] = None,
    reply_time_column: Annotated[str | None, typer.Option("--reply-time-column")] = None,
    encoding: str = "utf-8-sig",
    source: Annotated[str, typer.Option(help="name of the board; ids are unique per source")] = (
        "messages"
    ),
    unit: Annotated[str | None, typer.Option(help="unit code that wrote the replies")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="zone of the times (default JIESU_TIMEZONE)")
    ] = None,
    request_type: str = "complaint",
    channel: str = "web",
    bad_rows: BadRowsOpt = None,
) -> None:
    """Import a message-board CSV export: text, time, optional label, id and reply columns."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from jiesu.importers.messages import MessageColumns, import_messages

    if request_type not in get_args(RequestType):
        raise _fail(f"--request-type: one of {', '.join(get_args(RequestType))}")
    if channel not in get_args(Channel):
        raise _fail(f"--channel: one of {', '.join(get_args(Channel))}")
    if not 1 <= len(source) <= 40:
        raise _fail("--source: 1 to 40 characters")
    settings = get_settings()
    try:
        tz = ZoneInfo(timezone) if timezone else settings.tz
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(f"--timezone: unknown zone '{timezone}'") from exc
    columns = MessageColumns(
        text=text_column,
        time=time_column,
        label=label_column,
        id=id_column,
        reply=reply_column,
        reply_time=reply_time_column,
    )
    try:
        with configured_uow() as uow:
            report = import_messages(
                uow,
                SystemClock(),
                path,
                columns,
                tz=tz,
                source=source,
                encoding=encoding,
                unit=unit,
                request_type=request_type,
                channel=channel,
            )
    except RowError as exc:
        raise _fail(str(exc)) from exc
    _report(report, bad_rows)
