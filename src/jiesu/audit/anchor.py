"""Anchors: the heads of every case's event chain, published outside the database.

A chain proves that no row was changed *unless* the whole chain from that row on was
re-hashed, which someone with write access to the database can do. An anchor taken earlier
and kept elsewhere (a file on another machine, a ticket, another database) closes that gap:
for every case it names, the event at the anchored seq must still carry the anchored hash.
Cases and events added since the anchor are fine; an anchored event that is gone or
re-hashed is reported.

The file is one JSON document: {"format", "at", "digest", "cases", "heads": [[case_id, seq,
chain_hash], ...]}; "digest" is the same digest over all heads that `jiesu audit verify`
prints as its anchor, so the two can be compared by eye.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jiesu.audit.verify import MAX_PROBLEMS, Problem
from jiesu.cases.models import Case, CaseEvent

FORMAT = "jiesu-audit-anchor-v1"
BATCH = 5000


class AnchorError(Exception):
    """The anchor file cannot be read or is not an anchor; the message says which."""


@dataclass(frozen=True)
class Anchor:
    at: datetime
    digest: str
    heads: list[tuple[int, int, str]]  # case_id, seq, chain_hash of cases with events

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "at": self.at.isoformat(),
            "digest": self.digest,
            "cases": len(self.heads),
            "heads": [list(h) for h in self.heads],
        }


def _heads(conn: Connection) -> Iterator[tuple[int, int | None, str | None]]:
    """Every case in id order with its newest event's seq and hash (None: no events)."""
    newest = (
        sa.select(CaseEvent.case_id, sa.func.max(CaseEvent.seq).label("seq"))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    head = sa.orm.aliased(CaseEvent)
    after = 0
    while True:
        rows = conn.execute(
            sa.select(Case.id, newest.c.seq, head.chain_hash)
            .outerjoin(newest, newest.c.case_id == Case.id)
            .outerjoin(head, (head.case_id == Case.id) & (head.seq == newest.c.seq))
            .where(Case.id > after)
            .order_by(Case.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield from ((case_id, seq, chain_hash) for case_id, seq, chain_hash in rows)
        after = rows[-1][0]


def take(conn: Connection, at: datetime) -> Anchor:
    """The anchor of the database as this connection's snapshot sees it."""
    digest = hashlib.sha256()
    heads = []
    for case_id, seq, chain_hash in _heads(conn):
        # The same digest as verify's: "case_id:head\n" per case, "-" for a case without events.
        digest.update(f"{case_id}:{chain_hash or '-'}\n".encode())
        if seq is not None and chain_hash is not None:
            heads.append((case_id, seq, chain_hash))
    return Anchor(at, digest.hexdigest(), heads)


def write(anchor: Anchor, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(anchor.to_json(), separators=(",", ":")) + "\n", "utf-8")
    partial.replace(path)


ANCHORS = sa.Table(
    "jiesu_audit_anchor",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("cases", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)


def publish(anchor: Anchor, engine: sa.Engine) -> None:
    """One row in another database's jiesu_audit_anchor table (made on first use): a copy
    that whoever controls jiesu's database does not control."""
    ANCHORS.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(
            ANCHORS.insert().values(
                at=anchor.at.isoformat(),
                digest=anchor.digest,
                cases=len(anchor.heads),
                document=json.dumps(anchor.to_json(), separators=(",", ":")),
            )
        )


def read(path: Path) -> Anchor:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise AnchorError(f"{path}: cannot read ({exc.strerror})") from exc
    except ValueError as exc:
        raise AnchorError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise AnchorError(f"{path} is not a jiesu anchor (written by `jiesu audit anchor`)")
    try:
        heads = sorted((int(c), int(s), str(h)) for c, s, h in doc["heads"])
        return Anchor(datetime.fromisoformat(doc["at"]), str(doc["digest"]), heads)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnchorError(f"{path}: a damaged anchor ({exc})") from exc


def check(
    conn: Connection, anchor: Anchor, case_ids: tuple[int, int] | None = None
) -> list[Problem]:
    """Every anchored case (in the id range, if given) must still have, at the anchored seq,
    the anchored hash."""
    problems: list[Problem] = []
    heads = [h for h in anchor.heads if case_ids is None or case_ids[0] <= h[0] <= case_ids[1]]
    when = anchor.at.isoformat(timespec="seconds")
    for start in range(0, len(heads), BATCH):
        part = heads[start : start + BATCH]
        wanted = {(c, s) for c, s, _ in part}
        rows = conn.execute(
            sa.select(CaseEvent.id, CaseEvent.case_id, CaseEvent.seq, CaseEvent.chain_hash).where(
                CaseEvent.case_id.between(part[0][0], part[-1][0])
            )
        )
        stored = {(c, s): (i, h) for i, c, s, h in rows if (c, s) in wanted}
        for case_id, seq, anchored in part:
            found = stored.get((case_id, seq))
            if found is None:
                what = f"event seq {seq}, anchored at {when}, is missing (history deleted)"
                problems.append(Problem(case_id, None, None, what))
            elif found[1] != anchored:
                what = (
                    f"differs from the anchor taken at {when} (anchored {anchored[:16]}…, "
                    f"stored {found[1][:16]}…): the chain was rewritten"
                )
                problems.append(Problem(case_id, found[0], seq, what))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems[:MAX_PROBLEMS]
