"""The one command line: `jiesu serve | demo | db | org | users | jobs | model`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiesu.analytics.cli import analytics_app
from jiesu.assessment.cli import assess_app, report_app
from jiesu.audit.cli import audit_app
from jiesu.clock import SystemClock
from jiesu.demo.generate import generate_command
from jiesu.errors import DomainError
from jiesu.governance.cli import forecast_app, governance_app, hotspots
from jiesu.governance.summary_cli import summarise_cmd
from jiesu.importers.cli import import_app
from jiesu.knowledge.cli import knowledge_app
from jiesu.open311.cli import open311_app
from jiesu.ops.cli import backup_command, restore_command, retention_command
from jiesu.settings import get_settings
from jiesu.triage.cli import model_app
from jiesu.uow import configured_uow

app = typer.Typer(no_args_is_help=True, help="jiesu: the citizen-request hotline platform.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema and data.")
org_app = typer.Typer(no_args_is_help=True, help="Organisation and taxonomy.")
users_app = typer.Typer(no_args_is_help=True, help="People and roles.")
jobs_app = typer.Typer(no_args_is_help=True, help="Scheduled jobs (idempotent).")
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(users_app, name="users")
app.add_typer(jobs_app, name="jobs")
app.add_typer(open311_app, name="open311")
app.add_typer(import_app, name="import")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(analytics_app, name="analytics")
app.add_typer(assess_app, name="assess")
app.add_typer(report_app, name="report")
app.add_typer(governance_app, name="governance")
app.add_typer(forecast_app, name="forecast")
app.command("hotspots")(hotspots)
governance_app.command("summarise")(summarise_cmd)
app.add_typer(audit_app, name="audit")
db_app.command("backup")(backup_command)
db_app.command("restore")(restore_command)
jobs_app.command("retention")(retention_command)

app.add_typer(model_app, name="model", help="Triage models: train, evaluate, predict, use.")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Run the migrations up to REVISION (default: the newest)."""
    from jiesu.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    from jiesu.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@org_app.command("load")
def org_load() -> None:
    """Load the shipped Beijing units, taxonomy, time-limit policy, calendar and routing rules."""
    from jiesu.bootstrap import bootstrap

    with configured_uow() as uow:
        loaded = bootstrap(uow.session)
        uow.commit()
    typer.echo(f"{loaded.units} units, {loaded.categories} categories loaded")


@org_app.command("import-categories")
def org_import_categories(path: Path) -> None:
    """Replace or extend the taxonomy from a centre's own CSV (code,name,level,parent_code,…)."""
    from jiesu.units.catalog import CatalogError, parse_categories_csv
    from jiesu.units.service import upsert_categories

    try:
        rows = parse_categories_csv(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, CatalogError) as exc:
        raise _fail(f"{path}: {exc}") from exc
    with configured_uow() as uow:
        n = upsert_categories(uow.session, rows)
        uow.commit()
    typer.echo(f"{n} categories imported")


@org_app.command("import-units")
def org_import_units(path: Path) -> None:
    """Add or update units from CSV (code,name,kind,parent_code,aliases)."""
    from jiesu.units.catalog import CatalogError, parse_units_csv
    from jiesu.units.service import upsert_units

    try:
        rows = parse_units_csv(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, CatalogError) as exc:
        raise _fail(f"{path}: {exc}") from exc
    with configured_uow() as uow:
        n = upsert_units(uow.session, rows)
        uow.commit()
    typer.echo(f"{n} units imported")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="agent, dispatcher, handler, callback, leader, …")],
    unit: Annotated[str | None, typer.Option(help="unit code, for handlers")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    from jiesu.auth.service import create_user

    with configured_uow() as uow:
        try:
            create_user(
                uow.session,
                username=username,
                password=password,
                role=role,
                unit_code=unit,
                now=SystemClock().now(),
            )
        except DomainError as exc:
            raise _fail(exc.message) from exc
        uow.commit()
    typer.echo(f"user {username} created")


@users_app.command("revoke-tokens")
def users_revoke_tokens(username: Annotated[str, typer.Option()]) -> None:
    """Revoke every API token of USERNAME and end their web sessions (a leaked token)."""
    from jiesu.auth.service import revoke_user_tokens

    with configured_uow() as uow:
        try:
            n = revoke_user_tokens(uow.session, username)
        except DomainError as exc:
            raise _fail(exc.message) from exc
        uow.commit()
    typer.echo(f"{n} token(s) of {username} revoked, web sessions ended")


@jobs_app.command("scan")
def jobs_scan() -> None:
    """Record reminders before due and overdue marks after; running it twice changes nothing."""
    from jiesu.sla.scheduled import scan

    with configured_uow() as uow:
        result = scan(uow, SystemClock())
    typer.echo(f"{result.reminders} reminders, {result.overdue} overdue recorded")


@jobs_app.command("notify")
def jobs_notify() -> None:
    """Send pending notifications (SMS, e-mail); failures are retried later with backoff."""
    from jiesu.notify.scheduled import run_notify

    with configured_uow() as uow:
        result = run_notify(uow, SystemClock(), get_settings())
    typer.echo(f"{result.sent} sent, {result.retry} to retry, {result.failed} failed")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
) -> None:
    """Serve the API (and pages) with uvicorn: N worker processes, each with its own socket on
    the port (jiesu/serve.py), restarted if one dies."""
    from jiesu.serve import serve as run

    run(host, port, workers, get_settings().log_level)


# `jiesu demo` builds and serves the demo city; `jiesu demo generate` writes a large synthetic
# history straight to the analytics lake.
demo_app = typer.Typer(invoke_without_command=True, help="The demo city.")
app.add_typer(demo_app, name="demo")


@demo_app.callback()
def demo(
    ctx: typer.Context,
    cases: Annotated[int, typer.Option(min=1, max=1_000_000)] = 3000,
    days: Annotated[int, typer.Option(min=1, max=3650)] = 30,
    seed: int = 12345,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Build the demo city (a fresh database of realistic cases) and serve it."""
    if ctx.invoked_subcommand is not None:
        return
    from jiesu.demo.build import build_demo

    settings = get_settings()
    summary = build_demo(settings.database_url, cases=cases, days=days, seed=seed)
    typer.echo(summary)
    if serve_:
        typer.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
        serve(host=host, port=port, workers=1)


demo_app.command("generate")(generate_command)
