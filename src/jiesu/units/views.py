"""GET /api/v1/units and /api/v1/categories: the organisation and the taxonomy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from jiesu.units.models import Category, Unit
from jiesu.web.deps import CurrentActor, UowDep
from jiesu.web.responses import errors

router = APIRouter(tags=["organisation"], responses=errors(401, 403, 422))


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    parent_code: str | None
    aliases: list[str]


class CategoryOut(BaseModel):
    code: str
    name: str
    level: int
    parent_code: str | None
    livelihood_dimension: str
    urgency: str | None


@router.get("/units", response_model=list[UnitOut])
def list_units(
    uow: UowDep,
    actor: CurrentActor,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    parent: Annotated[str | None, Query(max_length=32)] = None,
) -> list[UnitOut]:
    stmt = select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if parent:
        stmt = stmt.where(Unit.parent_code == parent)
    return [
        UnitOut(
            code=u.code,
            name=u.name,
            kind=u.kind,
            parent_code=u.parent_code,
            aliases=[a for a in u.aliases.split("|") if a],
        )
        for u in uow.session.scalars(stmt)
    ]


@router.get("/categories", response_model=list[CategoryOut])
def list_categories(
    uow: UowDep,
    actor: CurrentActor,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    parent: Annotated[str | None, Query(max_length=32)] = None,
) -> list[CategoryOut]:
    stmt = select(Category).where(Category.active.is_(True)).order_by(Category.code)
    if level:
        stmt = stmt.where(Category.level == level)
    if parent:
        stmt = stmt.where(Category.parent_code == parent)
    return [
        CategoryOut(
            code=c.code,
            name=c.name,
            level=c.level,
            parent_code=c.parent_code,
            livelihood_dimension=c.livelihood_dimension,
            urgency=c.urgency or None,
        )
        for c in uow.session.scalars(stmt)
    ]
