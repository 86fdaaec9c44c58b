"""/api/v1/knowledge: agents search articles; admins write them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from jiesu.auth.permissions import Capability, require
from jiesu.knowledge import service
from jiesu.knowledge.service import ArticleIn, ArticleOut
from jiesu.web.deps import ClockDep, CurrentActor, UowDep
from jiesu.web.responses import errors

router = APIRouter(
    prefix="/knowledge", tags=["knowledge"], responses=errors(400, 401, 403, 404, 409, 422)
)
ArticleId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # INTEGER id


@router.get("", response_model=list[ArticleOut])
def search(
    uow: UowDep,
    actor: CurrentActor,
    q: Annotated[str, Query(max_length=200, description="words, space-separated")] = "",
    category: Annotated[str | None, Query(max_length=32)] = None,
    include_inactive: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ArticleOut]:
    """Best matches first: a word in the title counts 3, in the keywords 2, in the body 1."""
    require(actor, Capability.READ_ARTICLES)
    if include_inactive:
        require(actor, Capability.MANAGE_ARTICLES)
    return service.search(uow.session, q, category, include_inactive=include_inactive, limit=limit)


@router.get("/{article_id}", response_model=ArticleOut)
def get_article(article_id: ArticleId, uow: UowDep, actor: CurrentActor) -> ArticleOut:
    require(actor, Capability.READ_ARTICLES)
    return service.to_out(service.read_article(uow.session, article_id, actor))


@router.post("", response_model=ArticleOut, status_code=status.HTTP_201_CREATED)
def create(body: ArticleIn, uow: UowDep, clock: ClockDep, actor: CurrentActor) -> ArticleOut:
    require(actor, Capability.MANAGE_ARTICLES)
    article = service.create_article(uow.session, body, clock.now())
    uow.commit()
    return service.to_out(article)


@router.put("/{article_id}", response_model=ArticleOut)
def update(
    article_id: ArticleId, body: ArticleIn, uow: UowDep, clock: ClockDep, actor: CurrentActor
) -> ArticleOut:
    require(actor, Capability.MANAGE_ARTICLES)
    article = service.update_article(uow.session, article_id, body, clock.now())
    uow.commit()
    return service.to_out(article)


@router.delete("/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
def retire(article_id: ArticleId, uow: UowDep, clock: ClockDep, actor: CurrentActor) -> Response:
    """Retires the article (inactive, hidden from search); cases that cite it keep the id."""
    require(actor, Capability.MANAGE_ARTICLES)
    service.retire_article(uow.session, article_id, clock.now())
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
