"""`jiesu open311 key create|revoke|list`: api_keys for Open311 client applications."""

from __future__ import annotations

from typing import Annotated

import typer

from jiesu.clock import SystemClock
from jiesu.errors import DomainError
from jiesu.uow import configured_uow

open311_app = typer.Typer(no_args_is_help=True, help="Open311 GeoReport v2: client api_keys.")
key_app = typer.Typer(no_args_is_help=True, help="Issue, revoke and list api_keys.")
open311_app.add_typer(key_app, name="key")

Client = Annotated[str, typer.Option("--client", help="the client application's name")]
Scope = Annotated[
    list[str] | None,
    typer.Option(
        "--scope",
        help="grant beyond submitting and the public feed; read_private: full text, address "
        "and exact coordinates (never the citizen's name, phone or e-mail). Repeatable.",
    ),
]


def _fail(exc: DomainError) -> typer.Exit:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@key_app.command("create")
def key_create(client: Client, scope: Scope = None) -> None:
    """Issue a key; it is printed as the last line, and this is the only time it is shown."""
    from jiesu.open311.keys import create_key

    with configured_uow() as uow:
        try:
            key = create_key(uow.session, client, SystemClock().now(), scope or ())
        except DomainError as exc:
            raise _fail(exc) from exc
        uow.commit()
    typer.echo(f"api_key for Open311 client '{client}' (shown only now; store it safely):")
    typer.echo(key)


@key_app.command("revoke")
def key_revoke(client: Client) -> None:
    from jiesu.open311.keys import revoke_key

    with configured_uow() as uow:
        try:
            revoke_key(uow.session, client, SystemClock().now())
        except DomainError as exc:
            raise _fail(exc) from exc
        uow.commit()
    typer.echo(f"api_key of '{client}' revoked")


@key_app.command("list")
def key_list() -> None:
    """Clients and whether their key is live (keys themselves are never shown)."""
    from jiesu.open311.keys import list_clients

    with configured_uow() as uow:
        rows = list_clients(uow.session)
    for r in rows:
        state = "active" if r.active else f"revoked {r.revoked_at:%Y-%m-%d %H:%M}Z"
        scopes = " ".join(r.scopes) or "-"
        typer.echo(f"{r.client}\t{r.created_at:%Y-%m-%d %H:%M}Z\t{state}\t{scopes}")
    if not rows:
        typer.echo("no Open311 clients")
