"""Triage against the database: the taxonomy, routing rules and recent cases feed the pure
engine; the live model is loaded once and reloaded when `jiesu model use` swaps it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from jiesu.memo import TableMemo
from jiesu.routing.rules import Decision, route
from jiesu.routing.service import load_rules
from jiesu.triage import live_model_dir
from jiesu.triage.classifier import TextModel
from jiesu.triage.engine import CategoryInfo, Proposal, Triage
from jiesu.triage.model_store import ModelLoadError, load_model
from jiesu.triage.places import find_place
from jiesu.triage.window import RECENT
from jiesu.units.models import Category

log = logging.getLogger(__name__)
# The active taxonomy, per process and database (jiesu/memo.py): a change committed in this
# process is seen at once, one made elsewhere within five minutes.
_TAXONOMY = TableMemo(
    lambda s: [
        CategoryInfo(*r)
        for r in s.execute(
            select(Category.code, Category.name, Category.level, Category.parent_code).where(
                Category.active.is_(True)
            )
        )
    ],
    watched=(Category.__tablename__,),
    ttl=300.0,
)


@dataclass(frozen=True)
class _Engine:
    triage: Triage
    model: TextModel | None
    categories_from: list[CategoryInfo]


class _Live:
    """The process's live model, reloaded when it changes, and its engine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: TextModel | None = None
        self._model_stamp: tuple[str, float] | None = None
        self._engine: _Engine | None = None

    def model(self) -> TextModel | None:
        directory = live_model_dir()
        manifest = directory / "manifest.json"
        stamp = (str(directory), manifest.stat().st_mtime) if manifest.exists() else None
        with self._lock:
            if stamp != self._model_stamp:
                self._model = _load(directory) if stamp else None
                self._model_stamp = stamp
            return self._model

    def triage(self, session: Session) -> Triage:
        """One engine per live model and taxonomy, kept while both stay the same."""
        model, categories = self.model(), _TAXONOMY.get(session)
        with self._lock:
            kept = self._engine
            if kept is None or kept.model is not model or kept.categories_from is not categories:
                kept = _Engine(Triage(model, categories), model, categories)
                self._engine = kept
            return kept.triage


def _load(directory: Path) -> TextModel | None:
    try:
        return load_model(directory)
    except ModelLoadError as exc:
        # A broken live model must not stop intake: keyword proposals still work.
        log.error("live triage model not loaded: %s", exc)
        return None


LIVE = _Live()


def propose(
    session: Session,
    now: datetime,
    text: str,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    datum: str = "wgs84",
    *,
    caught_up: bool = False,
    engine: Triage | None = None,
) -> Proposal:
    """`caught_up`: the caller has just run RECENT.catch_up on this session (the registrar
    does once per group), so the place's new cases need not be asked for. `engine`: the live
    one the caller already holds (`group_engine`), else it is looked up."""
    rules = load_rules(session, now)

    def routing(category: str, district: str | None, street: str | None) -> Decision | None:
        return route(rules, category, district, street)

    place = find_place(address) if address else find_place(text)
    engine = engine or LIVE.triage(session)
    candidates = RECENT.candidates(
        session, place.street_code, place.district_code, now, caught_up=caught_up
    )
    return engine.propose(
        text,
        address,
        lat,
        lon,
        candidates,
        datum=datum,
        routing=routing,
    )


def group_engine(session: Session) -> Triage | None:
    """The live engine for a group of proposals (the registrar's): the model's file and the
    taxonomy looked at once for the group, not once a proposal. None if that failed; each
    proposal then tries alone (and is stored without one if it fails too)."""
    try:
        return LIVE.triage(session)
    except SQLAlchemyError:
        raise
    except Exception:
        log.exception("the live triage engine could not be had for a group")
        return None


def prime(texts: list[str], engine: Triage | None) -> None:
    """Classify a group's texts together with the group's engine (`group_engine`; none: nothing
    to prime) before their proposals are made one by one; the proposals are the same, made for
    less. Never blocks intake."""
    if engine is None or engine.model is None:
        return
    try:
        engine.model.prime(texts)
    except Exception:
        log.exception("priming the model failed; each proposal classifies its text alone")


def proposal_record(session: Session, now: datetime, **fields: Any) -> dict[str, Any] | None:
    """The proposal to store on a new case, or None if triage failed: it never blocks intake."""
    try:
        proposal = propose(session, now, **fields).to_dict()
    except SQLAlchemyError:
        # Not triage's failure: the database went away (or the transaction is aborted), so
        # the registration cannot commit either; the caller answers 503, not a later 500.
        raise
    except Exception:
        log.exception("triage failed; the case is registered without a proposal")
        return None
    proposal["proposed_at"] = now.isoformat()
    return proposal
