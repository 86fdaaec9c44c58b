"""`jiesu hotspots` (hot topics) and `jiesu governance reply-quality | livelihood`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from jiesu.errors import DomainError
from jiesu.governance import export

governance_app = typer.Typer(
    no_args_is_help=True,
    help="主动治理: reply quality, 七有五性, spatial hotspots, surges, monthly-topic candidates.",
)
forecast_app = typer.Typer(no_args_is_help=True, help="预测: weekly forecasts and their backtest.")

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
    from jiesu.governance import service
    from jiesu.uow import configured_uow

    settings = _settings()
    try:
        with configured_uow() as uow:
            body = service.livelihood(Path(settings.lake_dir), month, uow.session)
    except DomainError as exc:
        raise _fail(exc.message) from exc
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


@governance_app.command("spatial")
def spatial_cmd(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    category: Annotated[str | None, typer.Option(help="category code prefix, e.g. 17")] = None,
    level: Annotated[str, typer.Option(help="h3 | street")] = "h3",
    resolution: Annotated[int, typer.Option(help="H3 resolution, 7 or 8")] = 8,
    baseline: Annotated[int, typer.Option(help="trailing months of baseline")] = 6,
    q: Annotated[float, typer.Option(help="false discovery rate")] = 0.05,
    top: Annotated[int, typer.Option(min=1, max=500)] = 100,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """空间热点: H3 cells or streets significantly above their own baseline in a month."""
    from jiesu.governance import service

    started = time.perf_counter()
    try:
        body = service.spatial(
            Path(_settings().lake_dir),
            month,
            category=category,
            level=level,
            resolution=resolution,
            baseline=baseline,
            q=q,
            top=top,
        )
    except DomainError as exc:
        raise _fail(exc.message) from exc
    body["seconds"] = round(time.perf_counter() - started, 1)
    if fmt == "table":
        typer.echo(
            f"{body['tested']} areas tested ({body['test']}, α={body['alpha']}), "
            f"{body['significant']} significant at q={q}",
            err=True,
        )
    _emit(body, "hotspots", service.SPATIAL_COLUMNS, fmt, out)


def _lake_body(fn: Any, *args: Any, **options: Any) -> dict[str, Any]:
    from jiesu.governance import service

    started = time.perf_counter()
    try:
        body = service.lake_call(fn, *args, **options)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    body["seconds"] = round(time.perf_counter() - started, 1)
    return body


MethodOpt = Annotated[str, typer.Option(help="snaive_drift | snaive | ets")]


@governance_app.command("surges")
def surges_cmd(
    week: Annotated[str | None, typer.Option(help="a day of the week, YYYY-MM-DD")] = None,
    method: MethodOpt = "snaive_drift",
    min_cases: Annotated[int, typer.Option(min=1)] = 10,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """突增预警: series of the (latest complete) week above their forecast interval."""
    from datetime import date

    from jiesu.governance import service
    from jiesu.governance.surges import surges

    try:
        day = date.fromisoformat(week) if week else None
    except ValueError as exc:
        raise _fail(f"--week must look like 2026-10-19, not {week!r}") from exc
    settings = _settings()
    body = _lake_body(
        surges, Path(settings.lake_dir), settings.tz, week=day, method=method, min_cases=min_cases
    )
    _emit(body, "surges", service.SURGE_COLUMNS, fmt, out)


@governance_app.command("candidates")
def candidates_cmd(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    top: Annotated[int, typer.Option(min=1, max=500)] = 20,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """每月一题候选: problems ranked by volume, breadth, persistence, repeats and low rates."""
    from jiesu.governance import service
    from jiesu.governance.candidates import monthly_candidates

    body = _lake_body(monthly_candidates, Path(_settings().lake_dir), month, top=top)
    _emit(body, "candidates", service.CANDIDATE_COLUMNS, fmt, out)


@forecast_app.command("run")
def forecast_run(
    category: Annotated[str | None, typer.Option(help="level-1 category code")] = None,
    district: Annotated[str | None, typer.Option(help="district code")] = None,
    horizon: Annotated[int, typer.Option(min=1, max=12)] = 8,
    method: MethodOpt = "snaive_drift",
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """Weekly forecasts per category × district with 95% intervals."""
    from jiesu.governance import service
    from jiesu.governance.forecast import forecast

    settings = _settings()
    body = _lake_body(
        forecast,
        Path(settings.lake_dir),
        settings.tz,
        horizon=horizon,
        method=method,
        category=category,
        district=district,
    )
    _emit(body, "forecasts", service.FORECAST_COLUMNS, fmt, out)


@forecast_app.command("backtest")
def forecast_backtest(
    horizon: Annotated[int, typer.Option(min=1, max=12)] = 8,
    origins: Annotated[int, typer.Option(min=1, max=104)] = 12,
    method: Annotated[
        list[str] | None, typer.Option("--method", help="repeatable; snaive is always included")
    ] = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
) -> None:
    """MASE, sMAPE and interval coverage of each method against the seasonal naive."""
    from jiesu.governance import service
    from jiesu.governance.surges import backtest

    methods = tuple(dict.fromkeys(["snaive", *(method or ["snaive_drift"])]))
    settings = _settings()
    body = _lake_body(
        backtest,
        Path(settings.lake_dir),
        settings.tz,
        horizon=horizon,
        origins=origins,
        methods=methods,
    )
    if fmt == "table":
        typer.echo(
            f"{body['series']} series, {body['origins']} origins × {body['horizon']} weeks",
            err=True,
        )
    _emit(body, "methods", service.BACKTEST_COLUMNS, fmt, out)
