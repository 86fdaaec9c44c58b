"""Annotated dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from jiesu.analytics.lake import MONTH_RE
from jiesu.auth.actor import Actor
from jiesu.auth.service import actor_for_token, remembered_actor
from jiesu.clock import Clock
from jiesu.errors import Unauthorized
from jiesu.settings import Settings
from jiesu.uow import UnitOfWork

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` one in a worker
# thread, and each such hop costs CPU on every request (bench/serve/RESULTS.md).
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    # Opening a session does no I/O (it connects on first use), and closing one that holds
    # no transaction (the request committed, or never read) does none either: both stay on
    # the event loop. Only a rollback or a connection to hand back goes to a worker thread.
    uow = UnitOfWork(request.app.state.session_factory).__enter__()
    try:
        yield uow
    except BaseException as exc:
        await _exit_in_thread(uow, exc)
        raise
    if uow.session.in_transaction():
        await _exit_in_thread(uow, None)
    else:
        uow.__exit__(None, None, None)


async def _exit_in_thread(uow: UnitOfWork, exc: BaseException | None) -> None:
    # As FastAPI does for sync dependencies: shielded, so a client hanging up cannot leave the
    # connection checked out; on a limiter of its own, so handing a connection back never
    # waits for a worker thread that may itself be waiting for a connection.
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(
            uow.__exit__,
            type(exc) if exc else None,
            exc,
            exc.__traceback__ if exc else None,
            limiter=CapacityLimiter(1),
        )


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
# A month in a path. The route checks it (its message names the form, 2026-10); the pattern
# is documented so that the OpenAPI schema says what is accepted.
MonthPath = Annotated[str, Path(json_schema_extra={"pattern": MONTH_RE.pattern})]


def one_of(values: Iterable[object]) -> dict[str, Any]:
    """`json_schema_extra` documenting the values a route checks itself."""
    return {"enum": list(values)}


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


async def current_actor(
    request: Request, token: Annotated[str | None, Depends(oauth2)], clock: ClockDep
) -> Actor:
    if not token:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>'")
    now = clock.now()
    # A token seen valid a moment ago is answered here; only a new one goes to the database.
    actor = remembered_actor(token, now)
    if actor is not None:
        return actor
    return await run_in_threadpool(_actor_from_db, request, token, now)


def _actor_from_db(request: Request, token: str, now: datetime) -> Actor:
    with UnitOfWork(request.app.state.session_factory) as uow:
        return actor_for_token(uow.session, token, now)


CurrentActor = Annotated[Actor, Depends(current_actor)]
