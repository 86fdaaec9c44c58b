"""POST /api/v1/auth/token: username + password → bearer token; /auth/revoke ends tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel

from jiesu.auth.limits import check_login, limits_of
from jiesu.auth.service import issue_token, revoke_token, revoke_user_tokens
from jiesu.errors import DomainError
from jiesu.inputs import Input
from jiesu.web.deps import ClockDep, CurrentActor, SettingsDep, UowDep, oauth2
from jiesu.web.responses import errors

router = APIRouter(prefix="/auth", tags=["auth"], responses=errors(400, 401, 422, 429))


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    unit: str | None


class MeOut(BaseModel):
    username: str
    role: str
    unit: str | None


class RevokeIn(Input):
    all: bool = False


class RevokedOut(BaseModel):
    revoked: int


@router.post("/token", response_model=TokenOut)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    try:
        user = check_login(
            uow.session,
            username,
            password,
            client=client,
            now=clock.now(),
            limits=limits_of(settings),
        )
    except DomainError:
        uow.commit()  # the failed try must count towards the lockout
        raise
    ttl = timedelta(hours=settings.token_ttl_hours)
    token = issue_token(uow.session, user, clock.now(), ttl)
    uow.commit()
    return TokenOut(
        access_token=token,
        expires_in=int(ttl.total_seconds()),
        role=user.role,
        unit=user.unit_code,
    )


@router.post("/revoke", response_model=RevokedOut)
def revoke(
    actor: CurrentActor,
    uow: UowDep,
    token: Annotated[str, Depends(oauth2)],
    body: RevokeIn | None = None,
) -> RevokedOut:
    """Log out: revoke the token of this request, or with {"all": true} every token and web
    session of the same user (a lost laptop)."""
    if body is not None and body.all:
        n = revoke_user_tokens(uow.session, actor.username)
    else:
        n = int(revoke_token(uow.session, token))
    uow.commit()
    return RevokedOut(revoked=n)


@router.get("/me", response_model=MeOut)
def me(actor: CurrentActor) -> MeOut:
    return MeOut(username=actor.username, role=actor.role.value, unit=actor.unit_code)
