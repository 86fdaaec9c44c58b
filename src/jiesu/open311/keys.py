"""Open311 api_keys, one per client application (DESIGN §9). The key is shown once, when it
is made; only its SHA-256 digest is stored, as with people's API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.errors import Conflict, Forbidden, InvalidInput, NotFound
from jiesu.open311.models import Open311Client

CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# What a key may be granted beyond submitting and reading the public feed. read_private: the
# full redacted text, the address as given and exact coordinates (a partner agency's map), never
# the citizen's name, phone or e-mail (docs/open311.md).
READ_PRIVATE = "read_private"
SCOPES = frozenset({READ_PRIVATE})


@dataclass(frozen=True)
class ClientInfo:
    client: str
    created_at: datetime
    revoked_at: datetime | None
    scopes: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_client_name(name: str) -> str:
    if not CLIENT_NAME.match(name):
        raise InvalidInput(
            "client: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            details={"field": "client"},
        )
    return name


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(sorted({s.strip() for s in scopes if s.strip()}))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            f"scope: '{unknown[0][:40]}' is unknown; known scopes: {', '.join(sorted(SCOPES))}",
            details={"field": "scopes"},
        )
    return wanted


def create_key(session: Session, client: str, now: datetime, scopes: Iterable[str] = ()) -> str:
    """A new key for a new client, or for one whose key was revoked (never two live keys)."""
    check_client_name(client)
    granted = " ".join(check_scopes(scopes))
    key = "o311_" + secrets.token_urlsafe(32)
    row = session.scalar(select(Open311Client).where(Open311Client.name == client))
    if row is not None and row.revoked_at is None:
        raise Conflict.of("live_key_exists", code="key_exists", client=client)
    if row is None:
        session.add(
            Open311Client(name=client, key_hash=digest(key), created_at=now, scopes=granted)
        )
    else:
        row.key_hash, row.created_at, row.revoked_at = digest(key), now, None
        row.scopes = granted
    session.flush()
    return key


def revoke_key(session: Session, client: str, now: datetime) -> ClientInfo:
    row = session.scalar(select(Open311Client).where(Open311Client.name == client))
    if row is None:
        raise NotFound.of("no_open311_client", client=client)
    if row.revoked_at is None:
        row.revoked_at = now
    session.flush()
    return _info(row)


def _info(row: Open311Client) -> ClientInfo:
    return ClientInfo(row.name, row.created_at, row.revoked_at, tuple(row.scopes.split()))


def list_clients(session: Session) -> list[ClientInfo]:
    rows = session.scalars(select(Open311Client).order_by(Open311Client.name))
    return [_info(r) for r in rows]


def _live(session: Session, key: str) -> Open311Client:
    row = session.scalar(select(Open311Client).where(Open311Client.key_hash == digest(key)))
    if row is None or row.revoked_at is not None:
        raise Forbidden("api_key is not valid (unknown or revoked)")
    return row


def client_for_key(session: Session, key: str | None) -> str:
    """The client's name; a missing, unknown or revoked key is 403 (GeoReport v2)."""
    if not key:
        raise Forbidden("api_key is required to submit a request")
    return _live(session, key).name


def reads_private(session: Session, key: str | None) -> bool:
    """Whether a GET may show the private view: no key is the public feed; a key given must be
    live (403 otherwise, not a silent downgrade) and hold read_private to see more."""
    if not key:
        return False
    return READ_PRIVATE in _live(session, key).scopes.split()
