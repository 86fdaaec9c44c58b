"""No loss, no doubles (DESIGN §9): a retried submission returns the first result.

Every registration with a key (the native API's Idempotency-Key, Open311's digest of the
form) goes through `GroupKeys` in cases/registration.py, alone or in a registrar's group: a key
already stored answers with the first result (or 422 for another body), a key sent twice in one
group stores one case and answers the second as a replay. The key row is inserted in the same
transaction as the case it names, just before the one commit. Two concurrent submissions with
one key both insert a case, but the unique constraint on (scope, key) lets only one commit: the
other's transaction (its case included) is rolled back, and tried again it answers with the
stored result. A submission is only ever acknowledged after its commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
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
from sqlalchemy.orm import Mapped, Session, mapped_column

from jiesu.db import Base, UTCDateTime
from jiesu.db_bulk import insert_rows
from jiesu.errors import InvalidInput

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


@dataclass(frozen=True)
class Key:
    """A registration's Idempotency-Key (Open311: the digest of its normalised form)."""

    value: str
    body_hash: str
    # An older stored key no longer counts (Open311 retries are only recognised for ten
    # minutes; a later identical report is a new one) and is replaced by this one.
    fresh_for: timedelta | None = None


def stored_keys(
    session: Session, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], IdempotencyKey]:
    """The keys among `wanted` (scope, key) already stored: one query for all, on the (scope,
    key) unique index (a key alone is its second column: a whole-table scan). Asked as plain
    columns (a retry is rare; the ORM's per-query work is not), and only the keys found are
    loaded as objects."""
    if not wanted:
        return {}
    rows = session.connection().execute(
        select(IdempotencyKey.id, IdempotencyKey.scope, IdempotencyKey.key).where(
            IdempotencyKey.scope.in_({scope for scope, _ in wanted}),
            IdempotencyKey.key.in_({k for _, k in wanted}),
        )
    )
    ids = [row.id for row in rows if (row.scope, row.key) in wanted]
    if not ids:
        return {}
    found = session.scalars(select(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
    return {(k.scope, k.key): k for k in found}


class GroupKeys:
    """The keys of a group of registrations stored in one transaction (cases/registration.py):
    each looked up once for the whole group, and a key sent twice in the group noticed. Each
    key row is inserted with its case, just before the one commit; two processes that store one
    key meanwhile both insert it, and the unique (scope, key) lets only one commit — the other's
    transaction fails, and tried again it finds the key and replays."""

    def __init__(
        self, session: Session, keys: Sequence[tuple[str, Key] | None], now: datetime
    ) -> None:
        self._keys = keys
        self._now = now
        self._found = stored_keys(session, {(scope, k.value) for scope, k in filter(None, keys)})
        self._first: dict[tuple[str, str], int] = {}
        self._stale: list[int] = []

    def stored(self, i: int) -> IdempotencyKey | None:
        """The stored row the i-th registration's key names, if it still counts."""
        scoped = self._keys[i]
        if scoped is None:
            return None
        scope, key = scoped
        row = self._found.get((scope, key.value))
        if row is not None and key.fresh_for and row.created_at < self._now - key.fresh_for:
            self._stale.append(row.id)
            return None
        return row

    def earlier_in_group(self, i: int) -> int | None:
        """The group's first registration with the i-th one's key, if that is not the i-th."""
        scoped = self._keys[i]
        if scoped is None:
            return None
        first = self._first.setdefault((scoped[0], scoped[1].value), i)
        return None if first == i else first

    def same_body(self, i: int, row: IdempotencyKey | int) -> bool:
        """Whether the i-th registration's body is the one the stored row (or the group's
        j-th registration) was made from: a retry, not a new request reusing the key."""
        mine = self._keys[i]
        assert mine is not None
        if isinstance(row, int):
            theirs = self._keys[row]
            assert theirs is not None
            return mine[1].body_hash == theirs[1].body_hash
        return mine[1].body_hash == row.body_hash

    def store(self, session: Session, made: Sequence[tuple[int, int]]) -> None:
        """The key rows of the registrations stored, (index, case id): a stale row the group
        found is replaced."""
        if self._stale:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(self._stale)))
        rows = [
            {
                "scope": scoped[0],
                "key": scoped[1].value,
                "body_hash": scoped[1].body_hash,
                "case_id": case_id,
                "response_status": 201,
                "created_at": self._now,
            }
            for i, case_id in made
            if (scoped := self._keys[i]) is not None
        ]
        insert_rows(session, IdempotencyKey, rows)


def reused(case_id: int) -> KeyReused:
    """The refusal of a key sent again with another body."""
    return KeyReused(
        "Idempotency-Key was already used for a different request body; "
        "send a new key for a new request",
        details={"field": "Idempotency-Key", "case_id": case_id},
    )
