"""`jiesu analytics refresh | metrics`."""

from __future__ import annotations

from pathlib import Path

import typer

analytics_app = typer.Typer(no_args_is_help=True, help="The analytics lake (Parquet) and metrics.")


def lake_dir() -> Path:
    from jiesu.settings import get_settings

    return Path(get_settings().lake_dir)


@analytics_app.command("refresh")
def refresh_cmd() -> None:
    """Export what changed since the last refresh to Parquet (idempotent; repairs a crash)."""
    from jiesu.analytics.export import refresh
    from jiesu.clock import SystemClock
    from jiesu.settings import get_settings
    from jiesu.uow import configured_uow

    with configured_uow() as uow:
        result = refresh(uow.session, lake_dir(), get_settings().tz, SystemClock().now())
    typer.echo(f"{lake_dir()}: {result}")


@analytics_app.command("metrics")
def metrics_cmd() -> None:
    """List the metric catalogue with each definition in words."""
    from jiesu.analytics.catalogue import catalogue

    for metric in catalogue().values():
        typer.echo(f"{metric.name} — {metric.title}\n  {metric.definition}\n")
