"""What every importer shares: reading a CSV with line numbers, the report of bad rows, and
writing whole cases (case row + the events that reach its status + its source reference) in
batches with bulk inserts.

Bulk inserts skip `act()` for speed (100k rows in well under a minute), so the consistency
that the workflow would guarantee is kept here instead: each draft carries its full chain of
steps, the case's status is the last step's `to_status`, and a case, its events, its
assignment and its external reference go in together in one transaction or not at all.
"""

from __future__ import annotations

import csv
import gc
import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jiesu.audit.append import chain_new_cases
from jiesu.cases.models import Assignment, CaseEvent
from jiesu.cases.personal import seal_new_cases
from jiesu.importers.bulk import insert_cases, insert_rows, known_ids
from jiesu.importers.models import ExternalRef
from jiesu.units.models import Category, Unit
from jiesu.uow import UnitOfWork

# Where rows go whose label or complaint type maps to nothing (counted in the report).
CATCH_ALL_CATEGORY = "99"
CATCH_ALL_NAME = "其他（导入未归类）"
BATCH = 2000
# csv's default limit (128 KiB) is too small for some message-board posts.
csv.field_size_limit(16 * 1024 * 1024)


class RowError(Exception):
    """A row that cannot be imported; the message says what is wrong with it."""


@dataclass(frozen=True)
class Step:
    action: str
    to_status: str
    at: datetime
    role: str
    unit_code: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Draft:
    """One case ready to write: its columns, its lifecycle steps, its origin."""

    line: int
    external_id: str
    case: dict[str, Any]
    steps: list[Step]
    lead_unit: str | None = None


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    source: str
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    bad: list[BadRow] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    units_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{self.source}: {self.read} rows read, {self.imported} cases imported",
            f"{self.duplicates} already imported",
            f"{len(self.bad)} bad rows skipped",
        ]
        if self.unmapped:
            parts.append(
                f"{sum(self.unmapped.values())} rows in catch-all category {CATCH_ALL_CATEGORY}"
            )
        if self.units_created:
            parts.append(f"{len(self.units_created)} units created")
        return ", ".join(parts)


def read_rows(
    path: Path, encoding: str = "utf-8-sig", required: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number where the record starts, row) for each record; header is line 1.

    Raises RowError for a file that cannot be read at all (missing columns, wrong encoding).
    """
    try:
        handle = path.open(encoding=encoding, newline="")
    except (OSError, LookupError) as exc:
        raise RowError(f"{path}: {exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except UnicodeDecodeError as exc:
            raise RowError(f"{path}: not {encoding} ({exc.reason}); give --encoding") from exc
        missing = [c for c in required if c not in header]
        if missing:
            raise RowError(
                f"{path}: missing column(s) {', '.join(missing)}; the file has: "
                + ", ".join(header[:50])
            )
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise RowError(
                    f"{path}: line {start}: not {encoding} ({exc.reason}); give --encoding"
                ) from exc
            except csv.Error as exc:
                raise RowError(f"{path}: line {start}: {exc}") from exc
            yield start, {k: (v or "") for k, v in row.items() if k is not None}
            start = reader.line_num + 1


def row_hash(row: dict[str, str]) -> str:
    """Identity of a row with no id column: its values in header order, hashed."""
    digest = hashlib.sha256("\x1f".join(row.values()).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:64]}"


def ensure_catch_all(session: Session) -> None:
    if session.get(Category, CATCH_ALL_CATEGORY) is None:
        session.add(Category(code=CATCH_ALL_CATEGORY, name=CATCH_ALL_NAME, level=1, urgency=""))
        session.flush()


def ensure_unit(session: Session, code: str, name: str, kind: str) -> bool:
    """Create the unit if it is new; True when it was created."""
    if session.get(Unit, code) is not None:
        return False
    session.add(Unit(code=code, name=name[:200], kind=kind, aliases=""))
    session.flush()
    return True


_CASE_DEFAULTS: dict[str, Any] = {
    "version": 1,
    "request_type": "complaint",
    "category": None,
    "urgency": "normal",
    "channel": "other",
    "address": "",
    "district": None,
    "street": None,
    "lat": None,
    "lon": None,
    "citizen_name": "",
    "citizen_phone": "",
    "lead_unit": None,
    "answer_text": "",
    "reply_text": "",
    "dispatched_at": None,
    "acknowledged_at": None,
    "contacted_at": None,
    "replied_at": None,
    "closed_at": None,
    "escalation_level": 0,
    "reopen_count": 0,
    "extension_pending_reason": "",
    "exclusion_state": "none",
    "exclusion_reason": "",
    "return_reason": "",
}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for an import, run by hand after each batch.

    A batch allocates tens of thousands of dicts that live until it is written, and the full
    collections they set off walked every live object each time: a fifth of the import's CPU
    (bench/intake). BatchWriter.flush collects the young generations after each batch, so
    cycles, if any, are still freed batch by batch."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class BatchWriter:
    """Collects drafts and writes them BATCH at a time, one transaction per batch."""

    def __init__(self, uow: UnitOfWork, source: str, now: datetime, report: ImportReport):
        self.uow = uow
        self.source = source
        self.actor = f"import:{source}"
        self.now = now
        self.report = report
        self._pending: list[Draft] = []
        self._seen: set[str] = set()

    def add(self, draft: Draft) -> None:
        if draft.external_id in self._seen:
            self.report.duplicates += 1
            return
        self._seen.add(draft.external_id)
        self._pending.append(draft)
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        drafts, self._pending = self._pending, []
        if not drafts:
            return
        session = self.uow.session
        known = known_ids(session, self.source, [d.external_id for d in drafts])
        fresh = [d for d in drafts if d.external_id not in known]
        self.report.duplicates += len(drafts) - len(fresh)
        if fresh:
            self._write(session, fresh)
        self.uow.commit()
        self.report.imported += len(fresh)
        del drafts, fresh
        gc.collect(1)  # the young generations only: see collector_paused()

    def _write(self, session: Session, drafts: list[Draft]) -> None:
        case_rows = []
        for d in drafts:
            last = d.steps[-1]
            row = {**_CASE_DEFAULTS, **d.case}
            row.update(
                status=last.to_status,
                lead_unit=d.lead_unit,
                created_at=d.steps[0].at,
                updated_at=last.at,
                registered_by=self.actor,
            )
            case_rows.append(row)
        ids = insert_cases(session, case_rows)
        events: list[dict[str, Any]] = []
        leads: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        for case_id, d in zip(ids, drafts, strict=True):
            before = None
            for step in d.steps:
                events.append(
                    {
                        "case_id": case_id,
                        "at": step.at,
                        "actor": self.actor,
                        "role": step.role,
                        "unit_code": step.unit_code,
                        "action": step.action,
                        "from_status": before,
                        "to_status": step.to_status,
                        "reason": "",
                        "payload": {"source": self.source, **step.payload},
                    }
                )
                before = step.to_status
            if d.lead_unit is not None:
                leads.append(
                    {
                        "case_id": case_id,
                        "unit_code": d.lead_unit,
                        "role": "lead",
                        "active": True,
                        "assigned_at": d.steps[0].at,
                    }
                )
            refs.append(
                {
                    "source": self.source,
                    "external_id": d.external_id,
                    "case_id": case_id,
                    "imported_at": self.now,
                }
            )
        # Imported cases are new, so each chain starts here (tamper evidence), over their free
        # text sealed under new case keys (crypto-shredding, cases/personal.py).
        insert_rows(session, CaseEvent, chain_new_cases(seal_new_cases(session, events)))
        insert_rows(session, Assignment, leads)
        insert_rows(session, ExternalRef, refs)


def lifecycle(
    status: str,
    created: datetime,
    unit: str | None,
    *,
    replied: datetime | None = None,
    reply_text: str = "",
    closed: datetime | None = None,
) -> list[Step]:
    """The steps a case takes from registration to `status`, at the source's own times.

    closed: register → dispatch → acknowledge → reply → callback (a close with no callback
    answers: payload says so, and no case_callback row is written, so assessment skips it).
    """
    steps = [Step("register", "registered", created, "agent")]
    if status == "registered":
        return steps
    if unit is None:
        raise RowError("no unit to dispatch to")
    steps.append(Step("dispatch", "dispatched", created, "dispatcher", None, {"lead_unit": unit}))
    if status == "dispatched":
        return steps
    steps.append(Step("acknowledge", "acknowledged", created, "handler", unit))
    reply_at = replied or closed or created
    steps.append(Step("reply", "replied", reply_at, "handler", unit, {"text": reply_text}))
    if status == "replied":
        return steps
    steps.append(
        Step("callback", "closed", closed or reply_at, "callback", None, {"closed_at_source": True})
    )
    return steps
