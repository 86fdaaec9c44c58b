"""No loss, no doubles (DESIGN §9): a retried submission returns the first result.

The key row is inserted in the same transaction as the case it names, just before the one
commit. Two concurrent submissions with one key both insert a case, but the unique constraint on
(scope, key) lets only one commit: the other's transaction (its case included) is rolled back
and it answers with the stored result. A submission is only ever acknowledged after its commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from jiesu.cases.models import Case
from jiesu.clock import Clock
from jiesu.db import Base, UTCDateTime
from jiesu.errors import InvalidInput
from jiesu.uow import UnitOfWork

MAX_KEY_LENGTH = 200


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_key_scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Whose key: the username for the native API, `open311:<client>` for Open311 clients.
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    body_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    response_status: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Outcome:
    case_id: int
    status: int
    replayed: bool


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"


def body_hash(payload: Any) -> str:
    """SHA-256 of a canonical JSON form: key order and spacing never make two bodies differ."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# What check_key accepts, for the OpenAPI document: printable ASCII, space included.
KEY_PATTERN = f"^[ -~]{{1,{MAX_KEY_LENGTH}}}$"


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key: give 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            details={"field": "Idempotency-Key"},
        )
    return key


def _stored(session: Session, scope: str, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


Claim = Callable[[Session, Case], None]


def create_once(
    uow: UnitOfWork,
    clock: Clock,
    *,
    scope: str,
    key: str,
    payload_hash: str,
    create: Callable[[Claim], Case],
    also: Claim | None = None,
    status: int = 201,
    fresh_for: timedelta | None = None,
) -> Outcome:
    """Run `create` (a use case that registers one case, calls the claim it is given just
    before its one commit, and commits) at most once per (scope, key). `also` adds the
    channel's own rows for the new case in the same transaction. `fresh_for`: an older stored
    key no longer counts (Open311 retries are only recognised for ten minutes; a later
    identical report is a new one)."""
    session = uow.session
    now = clock.now()
    cutoff = now - fresh_for if fresh_for is not None else None
    replay = _replay(session, scope, key, payload_hash, cutoff)
    if replay is not None:
        return replay
    # End the read so the write transaction below starts fresh (SQLite snapshots).
    session.rollback()

    def claim(sess: Session, case: Case) -> None:
        # The key row commits with the case or not at all: under concurrent retries the
        # unique (scope, key) lets exactly one of them commit.
        if cutoff is not None:
            sess.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.scope == scope,
                    IdempotencyKey.key == key,
                    IdempotencyKey.created_at < cutoff,
                )
            )
        if also is not None:
            also(sess, case)
        sess.add(
            IdempotencyKey(
                scope=scope,
                key=key,
                body_hash=payload_hash,
                case_id=case.id,
                response_status=status,
                created_at=now,
            )
        )

    try:
        case = create(claim)
    except IntegrityError:
        # Someone committed this key first; our case went with the rollback.
        replay = _replay(session, scope, key, payload_hash, cutoff)
        if replay is None:
            raise
        return replay
    return Outcome(case.id, status, replayed=False)


def _replay(
    session: Session, scope: str, key: str, payload_hash: str, cutoff: datetime | None
) -> Outcome | None:
    row = _stored(session, scope, key)
    if row is None or (cutoff is not None and row.created_at < cutoff):
        return None
    if row.body_hash != payload_hash:
        raise reused(row.case_id)
    return Outcome(row.case_id, row.response_status, replayed=True)


def reused(case_id: int) -> KeyReused:
    """The refusal of a key sent again with another body."""
    return KeyReused(
        "Idempotency-Key was already used for a different request body; "
        "send a new key for a new request",
        details={"field": "Idempotency-Key", "case_id": case_id},
    )
