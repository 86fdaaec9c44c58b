"""`jiesu audit verify`: walk every case's event chain and name the first row that breaks it.

What is detected, per case, in case id order:
- an edited row: its content no longer hashes to its chain_hash; a row edited and re-hashed
  by hand shows as the next row no longer linking to it;
- a deleted row inside a chain: a gap in seq;
- deleted newest rows: the case's status is not where its last event leads.
Deleting the newest event of an action that leaves the status unchanged (contact) leaves no
trace inside the database; the `anchor` printed at the end (a digest over every case's head)
closes that gap when an operator keeps it outside the database and compares later runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jiesu.audit.chain import link
from jiesu.cases.models import Case, CaseEvent

BATCH = 2000
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    case_id: int
    event_id: int | None
    seq: int | None
    what: str

    def __str__(self) -> str:
        where = f"case {self.case_id}"
        if self.event_id is not None:
            where += f", event {self.event_id} (seq {self.seq})"
        return f"{where}: {self.what}"


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    anchor: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = "chain intact" if self.ok else f"{len(self.problems)} problem(s)"
        return f"{self.cases} cases, {self.events} events checked: {state}; anchor {self.anchor}"


_EVENT_COLS = [
    CaseEvent.id,
    CaseEvent.case_id,
    CaseEvent.seq,
    CaseEvent.chain_hash,
    CaseEvent.at,
    CaseEvent.actor,
    CaseEvent.role,
    CaseEvent.unit_code,
    CaseEvent.action,
    CaseEvent.from_status,
    CaseEvent.to_status,
    CaseEvent.reason,
    CaseEvent.payload,
]


def verify(conn: Connection, case_ids: tuple[int, int] | None = None) -> Report:
    """Check every chain (or the cases in the inclusive id range) in one read snapshot."""
    report = Report()
    anchor = hashlib.sha256()
    after = case_ids[0] - 1 if case_ids else 0
    while len(report.problems) < MAX_PROBLEMS:
        q = sa.select(Case.id, Case.status).where(Case.id > after).order_by(Case.id).limit(BATCH)
        if case_ids:
            q = q.where(Case.id <= case_ids[1])
        cases = conn.execute(q).all()
        if not cases:
            break
        lo, hi = cases[0][0], cases[-1][0]
        events = conn.execute(
            sa.select(*_EVENT_COLS)
            .where(CaseEvent.case_id.between(lo, hi))
            .order_by(CaseEvent.case_id, CaseEvent.seq, CaseEvent.id)
        ).mappings()
        by_case: dict[int, list[sa.RowMapping]] = {}
        for ev in events:
            by_case.setdefault(ev["case_id"], []).append(ev)
        for case_id, status in cases:
            chain = by_case.get(case_id, [])
            report.cases += 1
            report.events += len(chain)
            report.problems += _check_case(case_id, status, chain)
            head = chain[-1]["chain_hash"] if chain else "-"
            anchor.update(f"{case_id}:{head}\n".encode())
        after = hi
    del report.problems[MAX_PROBLEMS:]
    report.anchor = anchor.hexdigest()
    return report


def _check_case(case_id: int, status: str, chain: list[sa.RowMapping]) -> list[Problem]:
    if not chain:
        return [Problem(case_id, None, None, "has no events at all (its history was deleted)")]
    prev: str | None = None
    for expected, ev in enumerate(chain, start=1):
        if ev["seq"] != expected:
            missing = f"seq {expected}" + (f"-{ev['seq'] - 1}" if ev["seq"] - 1 > expected else "")
            return [
                Problem(
                    case_id, ev["id"], ev["seq"], f"event(s) {missing} before this one are missing"
                )
            ]
        recomputed = link(prev, dict(ev))
        if recomputed != ev["chain_hash"]:
            # The hash alone cannot tell which: this row edited, or the one before it edited
            # and re-hashed by hand (that one then verifies, this one no longer links).
            what = "does not match its hash: this row, or the one before it, was edited"
            if expected == 1:
                what = "does not match its hash: this row was edited"
            return [
                Problem(
                    case_id,
                    ev["id"],
                    ev["seq"],
                    f"{what} (stored {ev['chain_hash'][:16]}…, recomputed {recomputed[:16]}…)",
                )
            ]
        prev = ev["chain_hash"]
    last = chain[-1]
    if last["to_status"] != status:
        return [
            Problem(
                case_id,
                last["id"],
                last["seq"],
                f"the case is '{status}' but its last event leads to '{last['to_status']}' "
                "(newer events were deleted, or the case row was edited)",
            )
        ]
    return []
