"""POST /api/v1/auth/token: username + password → bearer token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from pydantic import BaseModel

from jiesu.auth.service import authenticate, issue_token
from jiesu.web.deps import ClockDep, CurrentActor, SettingsDep, UowDep

router = APIRouter(prefix="/auth", tags=["auth"])


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


@router.post("/token", response_model=TokenOut)
def login(
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> TokenOut:
    user = authenticate(uow.session, username, password)
    ttl = timedelta(hours=settings.token_ttl_hours)
    token = issue_token(uow.session, user, clock.now(), ttl)
    uow.commit()
    return TokenOut(
        access_token=token,
        expires_in=int(ttl.total_seconds()),
        role=user.role,
        unit=user.unit_code,
    )


@router.get("/me", response_model=MeOut)
def me(actor: CurrentActor) -> MeOut:
    return MeOut(username=actor.username, role=actor.role.value, unit=actor.unit_code)
