"""`jiesu governance summarise`: write the summaries the leader cockpit reads (summary.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer


def _line(name: str, section: dict[str, Any]) -> str:
    if "error" in section:
        what = "FAILED" if section.get("failed") else "not available"
        return f"{name}: {what} ({section['error']})"
    if name == "surges":
        return f"surges: {len(section['items'])} in {len(section['weeks'])} complete week(s)"
    return f"{name}: {len(section['items'])}"


def summarise_cmd(
    month: Annotated[
        list[str] | None,
        typer.Option("--month", help="YYYY-MM, repeatable; default: this month and the one before"),
    ] = None,
    topics: Annotated[int, typer.Option(min=1, max=50, help="hot topics to keep")] = 10,
    candidates: Annotated[int, typer.Option(min=1, max=50, help="candidates to keep")] = 10,
) -> None:
    """Hot topics, surge alerts and monthly-topic candidates of a month, written as the small
    summary the cockpit reads (<lake>/_governance/<month>.json). Run after `analytics refresh`."""
    from jiesu.analytics.lake import check_month
    from jiesu.clock import SystemClock
    from jiesu.errors import DomainError
    from jiesu.governance.summary import SECTIONS, default_months, summarise, write_summary
    from jiesu.settings import get_settings

    settings = get_settings()
    lake = Path(settings.lake_dir)
    now = SystemClock().now()
    failed: list[str] = []
    months = month or default_months(now, settings.tz)
    for m in months:  # every month checked before hours of work on the first
        try:
            check_month(m)
        except ValueError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
    for m in months:
        started = time.perf_counter()
        try:
            body = summarise(lake, m, settings.tz, now, topics=topics, candidates=candidates)
        except DomainError as exc:
            typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        path = write_summary(lake, body)
        parts = "; ".join(_line(n, body[n]) for n in SECTIONS)
        typer.echo(f"{m}: {parts} → {path} ({time.perf_counter() - started:.1f} s)")
        failed += [f"{m} {n}" for n in SECTIONS if body[n].get("failed")]
    if failed:
        # Written all the same (the other sections are good); the exit status tells cron.
        typer.secho(f"error: failed: {', '.join(failed)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
