"""Writing chained event rows: the one-at-a-time path (services) and the bulk path (importers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from jiesu.audit.chain import link
from jiesu.cases.models import CaseEvent

# Heads extended in this transaction but maybe not flushed yet (sessions run without
# autoflush), so two events of one case in one transaction still chain in order.
_HEADS = "jiesu.audit.heads"


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_HEADS, None)


def _head(session: Session, case_id: int) -> tuple[int, str | None]:
    heads: dict[int, tuple[int, str | None]] = session.info.setdefault(_HEADS, {})
    if case_id in heads:
        return heads[case_id]
    row = session.execute(
        select(CaseEvent.seq, CaseEvent.chain_hash)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    return (0, None) if row is None else (row[0], row[1])


def append_event(session: Session, **fields: Any) -> CaseEvent:
    """Add one event row, numbered and linked to its case's chain. (A registration's first
    events are chained in bulk by `chain_new_cases`.)"""
    seq, prev = _head(session, fields["case_id"])
    fields["seq"] = seq + 1
    fields["chain_hash"] = link(prev, fields)
    session.info.setdefault(_HEADS, {})[fields["case_id"]] = (fields["seq"], fields["chain_hash"])
    row = CaseEvent(**fields)
    session.add(row)
    return row


def chain_new_cases(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Number and link rows of cases that have no events yet (bulk imports), in the order
    given within each case."""
    heads: dict[int, tuple[int, str | None]] = {}
    out = []
    for row in rows:
        seq, prev = heads.get(row["case_id"], (0, None))
        chained = {**row, "seq": seq + 1}
        chained["chain_hash"] = link(prev, chained)
        heads[row["case_id"]] = (chained["seq"], chained["chain_hash"])
        out.append(chained)
    return out
