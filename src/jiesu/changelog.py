"""The admin change log: who changed which policy, and when (admin_change)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jiesu.auth.actor import Actor
from jiesu.web.models import AdminChange


def record_change(
    session: Session, actor: Actor, now: datetime, kind: str, subject: str, detail: str = ""
) -> None:
    """One row of the change log, in the same transaction as the change itself: a change is
    never saved without its line, nor a line without its change."""
    session.add(
        AdminChange(
            at=now, actor=actor.username, kind=kind, subject=subject[:200], detail=detail[:4000]
        )
    )
