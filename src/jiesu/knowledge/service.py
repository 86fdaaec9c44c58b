"""Knowledge-base articles: admin CRUD, the shipped seed, and keyword search for agents.

Search works the same on SQLite and PostgreSQL: each word of the query is matched with LIKE
in title, keywords and body, and an article scores 3 per word in its title, 2 in its keywords
and 1 in its body, so the article a caller's words name comes first.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.auth.permissions import Capability, can
from jiesu.errors import Conflict, InvalidInput, NotFound
from jiesu.inputs import Input
from jiesu.knowledge.models import Article
from jiesu.units.models import Category

MAX_TERMS = 8
WEIGHTS = {"title": 3, "keywords": 2, "body": 1}


class ArticleIn(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    category: str | None = Field(None, max_length=32)
    keywords: str = Field("", max_length=500)
    active: bool = True


class ArticleOut(BaseModel):
    id: int
    title: str
    body: str
    category: str | None
    keywords: str
    active: bool
    updated_at: datetime
    score: int | None = None


def to_out(article: Article, score: int | None = None) -> ArticleOut:
    return ArticleOut(
        id=article.id,
        title=article.title,
        body=article.body,
        category=article.category,
        keywords=article.keywords,
        active=article.active,
        updated_at=article.updated_at,
        score=score,
    )


def _check(session: Session, cmd: ArticleIn, article_id: int | None = None) -> None:
    if cmd.category is not None and session.get(Category, cmd.category) is None:
        raise InvalidInput.of(
            "unknown_category",
            field="category",
            category=cmd.category,
            see="GET /api/v1/categories",
        )
    same = session.scalar(select(Article.id).where(Article.title == cmd.title))
    if same is not None and same != article_id:
        raise Conflict(f"title: article {same} already has this title", code="duplicate_title")


def create_article(session: Session, cmd: ArticleIn, now: datetime) -> Article:
    _check(session, cmd)
    article = Article(**cmd.model_dump(), updated_at=now)
    session.add(article)
    session.flush()
    return article


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    return article


def read_article(session: Session, article_id: int, actor: Actor) -> Article:
    """A retired article is gone for everyone but its managers: an agent must not answer a
    citizen from withdrawn guidance by following an old link or a cited id."""
    article = get_article(session, article_id)
    if not article.active and not can(actor, Capability.MANAGE_ARTICLES):
        raise NotFound(f"article {article_id} not found")
    return article


def update_article(session: Session, article_id: int, cmd: ArticleIn, now: datetime) -> Article:
    article = get_article(session, article_id)
    _check(session, cmd, article_id)
    for name, value in cmd.model_dump().items():
        setattr(article, name, value)
    article.updated_at = now
    session.flush()
    return article


def retire_article(session: Session, article_id: int, now: datetime) -> None:
    """DELETE keeps the row, inactive: answered cases cite the article by id."""
    article = get_article(session, article_id)
    article.active = False
    article.updated_at = now


def search(
    session: Session,
    q: str = "",
    category: str | None = None,
    *,
    include_inactive: bool = False,
    limit: int = 20,
) -> list[ArticleOut]:
    terms = list(dict.fromkeys(q.split()))[:MAX_TERMS]
    stmt = select(Article)
    if not include_inactive:
        stmt = stmt.where(Article.active.is_(True))
    if category:
        # A level-2 code also finds its level-3 children's articles.
        stmt = stmt.where(Article.category.startswith(category, autoescape=True))
    if terms:
        stmt = stmt.where(
            or_(
                *(
                    col.contains(t, autoescape=True)
                    for t in terms
                    for col in (Article.title, Article.keywords, Article.body)
                )
            )
        )
    scored = []
    for a in session.scalars(stmt):
        score = sum(
            w
            for t in terms
            for field, w in WEIGHTS.items()
            if t.lower() in str(getattr(a, field)).lower()
        )
        scored.append((score, a))
    scored.sort(key=lambda sa: (-sa[0], -sa[1].updated_at.timestamp(), sa[1].id))
    return [to_out(a, score if terms else None) for score, a in scored[:limit]]


def load_seed(session: Session, now: datetime) -> int:
    """The shipped articles (data/articles.json); idempotent by title. Returns rows added."""
    text = (files("jiesu.knowledge") / "data" / "articles.json").read_text("utf-8")
    existing = set(session.scalars(select(Article.title)))
    known = set(session.scalars(select(Category.code)))
    added = 0
    for item in json.loads(text):
        if item["title"] in existing:
            continue
        category = item.get("category")
        session.add(
            Article(
                title=item["title"],
                body=item["body"],
                category=category if category in known else None,
                keywords=item.get("keywords", ""),
                active=True,
                updated_at=now,
            )
        )
        added += 1
    session.flush()
    return added
