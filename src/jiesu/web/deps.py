"""Annotated dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from jiesu.auth.actor import Actor
from jiesu.auth.service import actor_for_token
from jiesu.cases.workflow import Role
from jiesu.clock import Clock
from jiesu.errors import Forbidden, Unauthorized
from jiesu.settings import Settings
from jiesu.uow import UnitOfWork

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    with UnitOfWork(request.app.state.session_factory) as uow:
        yield uow


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def current_actor(
    request: Request, token: Annotated[str | None, Depends(oauth2)], clock: ClockDep
) -> Actor:
    if not token:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>'")
    with UnitOfWork(request.app.state.session_factory) as uow:
        return actor_for_token(uow.session, token, clock.now())


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this needs one of the roles: {allowed}")
