"""`jiesu assess …` and `jiesu report monthly …`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from jiesu.analytics.engines import MetricEngine, open_engine
from jiesu.assessment.scoring import Assessment
from jiesu.errors import DomainError
from jiesu.sheets import csv_dict
from jiesu.uow import configured_uow

assess_app = typer.Typer(
    invoke_without_command=True,
    help="考评: monthly response, resolution and satisfaction rates, ranked per group.",
)
report_app = typer.Typer(no_args_is_help=True, help="Reports for leaders.")

Month = Annotated[str, typer.Option(help="the month, e.g. 2026-10")]
Engine = Annotated[str, typer.Option(help="duckdb (default) or spark")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@contextmanager
def _engine(name: str) -> Iterator[MetricEngine]:
    from jiesu.analytics.cli import lake_dir

    lake = lake_dir()
    if not (lake / "_state.json").exists():
        raise _fail(f"no analytics lake at {lake}; run `jiesu analytics refresh` first")
    try:
        engine = open_engine(name, lake)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        yield engine
    finally:
        engine.close()


def _result(month: str, engine_name: str, live_only: bool) -> tuple[Assessment, str]:
    from jiesu.assessment import service

    with configured_uow() as uow:
        snap = None if live_only else service.latest_snapshot(uow.session, month)
        if snap is not None:
            return service.frozen(uow.session, snap), f"frozen version {snap.version}"
        policies = service.load_policies(uow.session)
    with _engine(engine_name) as engine:
        return service.live(engine, month, policies), f"live from the lake ({engine_name})"


def _table(rows: list[dict[str, Any]]) -> str:
    head = f"{'rank':>4}  {'unit':<10} {'assessed':>8} {'resp':>7} {'resol':>7} "
    head += f"{'satis':>7} {'comp':>7}  name"
    lines = [head]
    for r in rows:
        rank = str(r["rank"]) if r["rank"] is not None else "-"
        lines.append(
            f"{rank:>4}  {r['unit']:<10} {r['assessed']:>8} {r['response_rate']:>7.2%} "
            f"{r['resolution_rate']:>7.2%} {r['satisfaction_rate']:>7.2%} "
            f"{r['composite']:>7.4f}  {r['name']} ({r['group']})"
        )
    return "\n".join(lines)


@assess_app.callback()
def assess(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="the month, e.g. 2026-10")] = None,
    group: Annotated[
        str | None, typer.Option(help="streets|districts|departments|enterprises")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="table|json|csv|xlsx")] = "table",
    engine: Engine = "duckdb",
    out: Annotated[Path | None, typer.Option(help="output file (needed for xlsx)")] = None,
    live: Annotated[bool, typer.Option(help="ignore a frozen snapshot; compute now")] = False,
) -> None:
    """Show a month's assessment: the frozen snapshot if there is one, else live figures."""
    if ctx.invoked_subcommand is not None:
        return
    from jiesu.assessment import service

    if month is None:
        raise _fail("give --month, e.g. --month 2026-10")
    if format_ not in ("table", "json", "csv", "xlsx"):
        raise _fail("--format must be table, json, csv or xlsx")
    if format_ == "xlsx" and out is None:
        raise _fail("--format xlsx needs --out FILE.xlsx")
    try:
        service.month_arg(month)
        service.group_arg(group)
        result, source = _result(month, engine, live)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    body = result.as_dict(group)
    if format_ == "json":
        text = json.dumps(body, ensure_ascii=False, indent=2)
    elif format_ == "csv":
        buf = io.StringIO()
        fields = ["unit", "name", "group", "assessed", "response_rate", "resolution_rate"]
        fields += ["satisfaction_rate", "composite", "rank"]
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(csv_dict(u) for u in body["units"])
        text = buf.getvalue()
    elif format_ == "xlsx":
        from jiesu.assessment.report import assessment_xlsx

        assert out is not None
        assessment_xlsx(body, out)
        typer.echo(f"{out}: {len(body['units'])} units ({source})")
        return
    else:
        text = f"考评 {month} — {source}\n{_table(body['units'])}"
    if out is not None:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{out}: {len(body['units'])} units ({source})")
    else:
        typer.echo(text)


@assess_app.command("freeze")
def freeze_cmd(
    month: Month,
    engine: Engine = "duckdb",
    reason: Annotated[str, typer.Option(help="why (recorded with the version)")] = "",
) -> None:
    """Freeze the month as a snapshot; a later change makes a new version with its diff."""
    from jiesu.analytics.cli import lake_dir
    from jiesu.analytics.lake import LakeState
    from jiesu.assessment import service
    from jiesu.clock import SystemClock

    try:
        service.month_arg(month)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    state = LakeState.load(lake_dir())
    with _engine(engine) as eng, configured_uow() as uow:
        res = service.freeze(
            uow.session,
            SystemClock(),
            eng,
            month,
            by="cli",
            reason=reason,
            lake_refreshed_at=state.refreshed_at,
        )
        uow.commit()
    snap = res.snapshot
    if res.created:
        typer.echo(f"{month} frozen as version {snap.version} ({len(snap.diff)} units changed)")
    else:
        typer.echo(f"{month} unchanged since version {snap.version}; nothing recorded")


@assess_app.command("versions")
def versions_cmd(month: Month) -> None:
    """List a month's frozen versions, with what changed in each."""
    from jiesu.assessment import service

    with configured_uow() as uow:
        snaps = service.snapshots(uow.session, month)
        if not snaps:
            typer.echo(f"{month} has not been frozen")
        for s in snaps:
            typer.echo(
                f"v{s.version}  {s.created_at:%Y-%m-%d %H:%M}Z  by {s.created_by}  "
                f"{len(s.diff)} units changed  {s.reason}"
            )
            for change in s.diff:
                typer.echo("    " + json.dumps(change, ensure_ascii=False))


@assess_app.command("cases")
def cases_cmd(
    month: Month,
    unit: Annotated[str, typer.Option(help="unit code")],
    metric: Annotated[
        str, typer.Option(help="assessed|response|resolution|satisfaction")
    ] = "assessed",
    engine: Engine = "duckdb",
) -> None:
    """Drill down: the cases behind one unit's figure, each with its credit."""
    from jiesu.assessment import service

    with configured_uow() as uow:
        policies = service.load_policies(uow.session)
    try:
        with _engine(engine) as eng:
            rows = service.drill(eng, month, unit, metric, policies)
    except DomainError as exc:
        raise _fail(exc.message) from exc
    for r in rows:
        typer.echo(
            f"case {r['case_id']:>8}  {r['called_at']}  contacted={r['contacted']!s:<5} "
            f"resolved={r['resolved']:<6} {r['satisfaction']:<12} credit={r['credit']:g}"
        )
    total = sum(r["credit"] for r in rows)
    rate = total / len(rows) if rows else 0.0
    typer.echo(f"{len(rows)} cases, {metric}: {total:g} / {len(rows)} = {rate:.4f}")


@assess_app.command("focus")
def focus_cmd(
    month: Month,
    engine: Engine = "duckdb",
    volume_quantile: Annotated[float, typer.Option(min=0, max=1)] = 0.8,
    composite_quantile: Annotated[float, typer.Option(min=0, max=1)] = 0.2,
    months: Annotated[int, typer.Option(min=1, max=36, help="trend length")] = 12,
) -> None:
    """治理类街乡镇: streets with high volume and low composite, with their trend."""
    from jiesu.assessment.report import focus_with_trend

    with configured_uow() as uow, _engine(engine) as eng:
        try:
            rows = focus_with_trend(
                uow.session, eng, month, months, volume_quantile, composite_quantile
            )
        except DomainError as exc:
            raise _fail(exc.message) from exc
    if not rows:
        typer.echo(f"{month}: no focus streets at these thresholds")
    for r in rows:
        trend = " ".join("-" if c is None else f"{c:.2f}" for c in r["trend"])
        typer.echo(
            f"{r['unit']} {r['name']}  assessed={r['assessed']}  composite={r['composite']:.4f}"
            f"  trend: {trend}"
        )


@report_app.command("monthly")
def monthly_cmd(
    month: Month,
    out: Annotated[Path, typer.Option(help="FILE.xlsx or FILE.html")],
    engine: Engine = "duckdb",
) -> None:
    """The leader's monthly report: totals, four rankings, movers, categories, focus streets."""
    from jiesu.assessment.report import build_monthly, write_html, write_xlsx

    if out.suffix not in (".xlsx", ".html"):
        raise _fail("--out must end in .xlsx or .html")
    with configured_uow() as uow, _engine(engine) as eng:
        try:
            report = build_monthly(uow.session, eng, month)
        except DomainError as exc:
            raise _fail(exc.message) from exc
    (write_xlsx if out.suffix == ".xlsx" else write_html)(report, out)
    typer.echo(f"{out}: monthly report for {month}")
