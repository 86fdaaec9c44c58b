"""`jiesu hotspots` (hot topics) and `jiesu governance reply-quality | livelihood`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from jiesu.errors import DomainError
from jiesu.governance import export

governance_app = typer.Typer(no_args_is_help=True, help="主动治理: reply quality, 七有五性.")

FormatOpt = Annotated[str, typer.Option("--format", help="json | table | csv | xlsx")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="write to this file")]


def _emit(
    body: dict[str, Any], key: str, columns: tuple[str, ...], fmt: str, out: Path | None
) -> None:
    try:
        text = export.render(body, key, columns, fmt, out)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if text is not None:
        typer.echo(text)
    else:
        typer.echo(f"wrote {out}", err=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _settings() -> Any:
    from jiesu.settings import get_settings

    return get_settings()


def hotspots(
    month: Annotated[str | None, typer.Option(help="a month of the lake, YYYY-MM")] = None,
    input: Annotated[Path | None, typer.Option("--input", help="a CSV/XLSX of messages")] = None,
    text_column: Annotated[
        list[str] | None, typer.Option("--text-column", help="repeat; first is the title")
    ] = None,
    time_column: Annotated[str | None, typer.Option("--time-column")] = None,
    id_column: Annotated[str | None, typer.Option("--id-column")] = None,
    citizen_column: Annotated[str | None, typer.Option("--citizen-column")] = None,
    support_column: Annotated[str | None, typer.Option("--support-column")] = None,
    against_column: Annotated[str | None, typer.Option("--against-column")] = None,
    top: Annotated[int, typer.Option(min=1, max=500)] = 10,
    fmt: FormatOpt = "json",
    out: OutOpt = None,
) -> None:
    """热点问题: group messages about the same problem in the same place and rank by heat."""
    from jiesu.governance import service
    from jiesu.governance.inputs import messages_from_table, read_table

    started = time.perf_counter()
    try:
        if (month is None) == (input is None):
            raise _fail("give either --month YYYY-MM or --input FILE")
        if input is not None:
            if not text_column or not time_column or not id_column:
                raise _fail("--input needs --text-column, --time-column and --id-column")
            messages, skipped = messages_from_table(
                read_table(input),
                text_columns=text_column,
                time_column=time_column,
                id_column=id_column,
                citizen_column=citizen_column,
                support_column=support_column,
                against_column=against_column,
                tz=_settings().tz,
            )
            body = service.topics_body(messages, top, source=str(input), skipped=skipped)
        else:
            assert month is not None
            body = service.month_topics(Path(_settings().lake_dir), month, top)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    body["seconds"] = round(time.perf_counter() - started, 1)
    _emit(body, "topics", service.TOPIC_COLUMNS, fmt, out)


@governance_app.command("livelihood")
def livelihood_cmd(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """七有五性: volume and the three rates per livelihood dimension for a month."""
    from jiesu.db import make_engine, make_session_factory
    from jiesu.governance import service

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            body = service.livelihood(Path(settings.lake_dir), month, session)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    finally:
        engine.dispose()
    _emit(body, "dimensions", service.LIVELIHOOD_COLUMNS, fmt, out)


@governance_app.command("reply-quality")
def reply_quality_cmd(
    input: Annotated[Path, typer.Option("--input", help="CSV/XLSX with requests and replies")],
    request_column: Annotated[list[str], typer.Option("--request-column", help="repeatable")],
    reply_column: Annotated[str, typer.Option("--reply-column")],
    id_column: Annotated[str, typer.Option("--id-column")],
    request_time_column: Annotated[str | None, typer.Option("--request-time-column")] = None,
    reply_time_column: Annotated[str | None, typer.Option("--reply-time-column")] = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """答复质量: score every reply of a file for relevance, completeness and timeliness."""
    from jiesu.governance.inputs import read_table
    from jiesu.governance.reply_quality_batch import COLUMNS, score_table

    try:
        body = score_table(
            read_table(input),
            request_columns=request_column,
            reply_column=reply_column,
            id_column=id_column,
            request_time_column=request_time_column,
            reply_time_column=reply_time_column,
            tz=_settings().tz,
        )
    except DomainError as exc:
        raise _fail(exc.message) from exc
    if fmt == "table":
        typer.echo(f"{body['summary']}", err=True)
    _emit(body, "replies", COLUMNS, fmt, out)
