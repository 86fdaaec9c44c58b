"""`jiesu analytics refresh`: copy what changed in the operational store into the lake.

Append-only tables (events, callbacks) move by id watermark; cases move by updated_at, each
changed case replacing its old row in its block of its month (lake.py). Re-running after a
success exports nothing; re-running after a crash repeats only the unfinished step (see lake.py).

Ids do not commit in order on PostgreSQL: a transaction may hold id 100 while id 101 commits
and is exported. So every id skipped below the watermark is remembered as a gap, looked for
again at each refresh and exported when it shows up (in a new part: rows are keyed by id and a
gap is only ever filled once). A gap still empty after GAP_MARGIN is a rolled-back insert and is
forgotten. Last, the assessed table is rebuilt for every month whose callbacks or exclusions
changed (analytics/assessed.py).
"""

from __future__ import annotations

import fcntl
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
from sqlalchemy import Row, Text, cast, select
from sqlalchemy.orm import Session

from jiesu.analytics.assessed import build_assessed, callback_months
from jiesu.analytics.lake import (
    LEGACY_CASE_FILE,
    SCHEMAS,
    LakeState,
    case_block_name,
    case_blocks,
    month_of,
    part_name,
    remove_orphans,
    write_atomic,
)
from jiesu.cases.models import Assignment, Callback, Case, CaseEvent
from jiesu.cases.workflow import Status
from jiesu.privacy.redact import redact
from jiesu.units.models import Category, Unit

CHUNK = 50_000
# A transaction that started before the last refresh may commit a case with an older
# updated_at afterwards; re-reading this much history catches it (the merge is idempotent).
CASE_OVERLAP = timedelta(minutes=10)
# No transaction of ours stays open this long: a gap older than this was a rollback.
GAP_MARGIN = timedelta(hours=1)
# A hole wider than this is a sequence jump (setval, a crash's lost cache), not transactions
# in flight: only its first ids are watched.
MAX_GAP_SPAN = 1_000
GAP_BATCH = 1_000
MERGE_BATCH = 500_000
LOCK_FILE = ".refresh.lock"


@dataclass
class RefreshResult:
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    orphans_removed: int = 0
    units: int = 0  # reference tables are rewritten whole every time

    def __str__(self) -> str:
        parts = ", ".join(f"{t} {n}" for t, n in sorted(self.rows.items()))
        extra = f"; {self.orphans_removed} orphan files removed" if self.orphans_removed else ""
        return f"exported: {parts or 'nothing new'}{extra}"


def refresh(session: Session, lake: Path, tz: ZoneInfo, now: datetime) -> RefreshResult:
    """One at a time per lake: a second waits (flock, dropped if the holder dies)."""
    lake.mkdir(parents=True, exist_ok=True)
    with (lake / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _refresh(session, lake, tz, now)


def _refresh(session: Session, lake: Path, tz: ZoneInfo, now: datetime) -> RefreshResult:
    state = LakeState.load(lake)
    result = RefreshResult()
    generation = int(state.watermarks.get("generation", 0))
    # A killed refresh's temporary files (DuckDB's globs would read them): none is live now.
    result.orphans_removed += _remove_temporaries(lake)
    for table in ("events", "exclusions", "callbacks"):
        wm_table = "events" if table == "exclusions" else table
        result.orphans_removed += remove_orphans(
            lake, table, int(state.watermarks.get(wm_table, 0)), generation
        )
    _refresh_events(session, lake, tz, state, result, now)
    _refresh_callbacks(session, lake, tz, state, result, now)
    _refresh_cases(session, lake, tz, state, result)
    _refresh_reference(session, lake, result)
    _refresh_assessed(lake, state, result)
    state.refreshed_at = now.isoformat()
    state.save(lake)
    return result


def _remove_temporaries(lake: Path) -> int:
    removed = 0
    for path in lake.rglob(".tmp-*"):
        if path.is_file():
            path.unlink()
            removed += 1
    return removed


def _chunks(session: Session, stmt: Any) -> Iterator[Sequence[Row[Any]]]:
    yield from session.execute(stmt.execution_options(yield_per=CHUNK)).partitions(CHUNK)


def _new_rows(
    session: Session, table: Any, state: LakeState, columns: Sequence[Any] = ()
) -> Iterator[Sequence[Row[Any]]]:
    """Rows not exported yet (all columns, or `columns`): gaps that have committed since, then
    ids above the watermark."""
    t = table.__table__
    query = select(*columns) if columns else select(t)
    gaps = sorted(int(i) for i in _gaps(state, table.__tablename__))
    for i in range(0, len(gaps), GAP_BATCH):
        batch = gaps[i : i + GAP_BATCH]
        found = session.execute(query.where(t.c.id.in_(batch)).order_by(t.c.id)).all()
        if found:
            yield found
    wm = int(state.watermarks.get(_WM[table.__tablename__], 0))
    yield from _chunks(session, query.where(t.c.id > wm).order_by(t.c.id))


_WM = {CaseEvent.__tablename__: "events", Callback.__tablename__: "callbacks"}


def _gaps(state: LakeState, table: str) -> dict[str, str]:
    all_gaps: dict[str, dict[str, str]] = state.watermarks.setdefault("gaps", {})
    return all_gaps.setdefault(_WM[table], {})


def _advance(lake: Path, state: LakeState, table: str, ids: list[int], now: datetime) -> None:
    """After a batch's parts are written: move the watermark past it, note the ids it skipped,
    strike the gaps it filled, and save the state with the batch's generation."""
    gaps = _gaps(state, table)
    wm = int(state.watermarks.get(_WM[table], 0))
    seen = now.isoformat()
    for i in ids:
        gaps.pop(str(i), None)
    previous = wm
    for i in ids:
        if i > previous + 1:
            for missing in range(previous + 1, min(i, previous + 1 + MAX_GAP_SPAN)):
                gaps[str(missing)] = seen
        previous = max(previous, i)
    state.watermarks[_WM[table]] = max(wm, previous)
    state.watermarks["generation"] = int(state.watermarks.get("generation", 0)) + 1
    state.save(lake)


def _expire_gaps(state: LakeState, table: str, now: datetime) -> None:
    gaps = _gaps(state, table)
    for key, seen in list(gaps.items()):
        if datetime.fromisoformat(seen) < now - GAP_MARGIN:
            del gaps[key]


def _write_parts(
    lake: Path,
    state: LakeState,
    table: str,
    rows: list[dict[str, Any]],
    month_key: str,
    tz: ZoneInfo,
) -> set[str]:
    """Write one batch's parts with the next generation; returns the months touched."""
    generation = int(state.watermarks.get("generation", 0)) + 1
    data = pa.Table.from_pylist(rows, schema=SCHEMAS[table])
    # The city's month of every row at once (month_of, vectorised).
    local = data[month_key].cast(pa.timestamp("us", tz=tz.key))
    months = pc.strftime(local, format="%Y-%m")
    touched = set(pc.unique(months).to_pylist())
    for month in sorted(touched):
        items = data.filter(pc.equal(months, month))
        path = lake / table / f"month={month}" / part_name(items["id"][0].as_py(), generation)
        write_atomic(items, path)
    return touched


def _mark_dirty(state: LakeState, months: set[str]) -> None:
    dirty = set(state.watermarks.get("assessed_dirty", [])) | months
    state.watermarks["assessed_dirty"] = sorted(dirty)


def _refresh_events(
    session: Session,
    lake: Path,
    tz: ZoneInfo,
    state: LakeState,
    result: RefreshResult,
    now: datetime,
) -> None:
    t = CaseEvent.__table__
    # The payload as the database's JSON text: no decoding and re-encoding of every event.
    names = ("id", "case_id", "at", "role", "unit_code", "action", "from_status", "to_status",
             "reason")  # fmt: skip
    columns = [*(t.c[n] for n in names), cast(t.c.payload, Text).label("payload")]
    for chunk in _new_rows(session, CaseEvent, state, columns):
        rows = []
        exclusions = []
        for r in chunk:
            m = r._mapping
            rows.append(
                {
                    "id": m["id"],
                    "case_id": m["case_id"],
                    "at": m["at"],
                    "role": m["role"],
                    "unit_code": m["unit_code"],
                    "action": m["action"],
                    "from_status": m["from_status"],
                    "to_status": m["to_status"],
                    "reason": m["reason"],
                    "payload": m["payload"] or "{}",
                }
            )
            if m["action"] == "approve_exclusion":
                exclusions.append(
                    {"event_id": m["id"], "case_id": m["case_id"], "approved_at": m["at"]}
                )
        _write_parts(lake, state, "events", rows, "at", tz)
        if exclusions:
            generation = int(state.watermarks.get("generation", 0)) + 1
            path = lake / "exclusions" / part_name(exclusions[0]["event_id"], generation)
            write_atomic(pa.Table.from_pylist(exclusions, schema=SCHEMAS["exclusions"]), path)
            # Every month the excluded cases were called back in must be re-derived.
            excluded = {e["case_id"] for e in exclusions}
            called = session.scalars(select(Callback.at).where(Callback.case_id.in_(excluded)))
            _mark_dirty(state, {month_of(at, tz) for at in called})
        result.rows["events"] += len(rows)
        result.rows["exclusions"] += len(exclusions)
        _advance(lake, state, CaseEvent.__tablename__, [r["id"] for r in rows], now)
    _expire_gaps(state, CaseEvent.__tablename__, now)


def _lead_at(history: list[tuple[datetime, str]], at: datetime) -> str | None:
    lead = None
    for assigned_at, unit in history:  # sorted by time
        if assigned_at <= at:
            lead = unit
    return lead


def _callback_rows(session: Session, chunk: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Fix, per callback, whom it assesses and what that unit's contact was (DESIGN §6)."""
    case_ids = {r._mapping["case_id"] for r in chunk}
    # Only the columns used (whole ORM cases cost more than everything else here).
    columns = (Case.id, Case.status, Case.master_case_id, Case.contact_due, Case.category,
               Case.district, Case.street)  # fmt: skip
    cases = {c.id: c for c in session.execute(select(*columns).where(Case.id.in_(case_ids)))}
    masters = {c.master_case_id for c in cases.values() if c.status == Status.MERGED} - {None}
    if masters:
        more = session.execute(select(*columns).where(Case.id.in_(masters)))
        cases.update({c.id: c for c in more})
    targets = case_ids | {m for m in masters if m is not None}
    leads: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for case_id, assigned_at, lead_unit in session.execute(
        select(Assignment.case_id, Assignment.assigned_at, Assignment.unit_code)
        .where(Assignment.case_id.in_(targets), Assignment.role == "lead")
        .order_by(Assignment.assigned_at, Assignment.id)
    ):
        leads[case_id].append((assigned_at, lead_unit))
    contacts: dict[tuple[int, str | None], list[datetime]] = defaultdict(list)
    for case_id, at, actor_unit in session.execute(
        select(CaseEvent.case_id, CaseEvent.at, CaseEvent.unit_code)
        .where(CaseEvent.case_id.in_(targets), CaseEvent.action == "contact")
        .order_by(CaseEvent.id)
    ):
        contacts[(case_id, actor_unit)].append(at)
    rows = []
    for r in chunk:
        m = r._mapping
        case = cases[m["case_id"]]
        target = case
        unit: str | None = m["unit_code"]
        if case.status == Status.MERGED and case.master_case_id is not None:
            # 并单: the duplicate's citizen is called back, the master's lead unit answers.
            target = cases[case.master_case_id]
            unit = _lead_at(leads[target.id], m["at"])
        first = [at for at in contacts[(target.id, unit)] if at <= m["at"]]
        rows.append(
            {
                "id": m["id"],
                "case_id": m["case_id"],
                "at": m["at"],
                "unit_code": m["unit_code"],
                "assessed_unit": unit,
                "contacted": m["contacted"],
                "resolved": m["resolved"],
                "satisfaction": m["satisfaction"],
                "unit_contacted_at": min(first) if first else None,
                "contact_due": target.contact_due,
                "category": case.category,
                "district": case.district,
                "street": case.street,
            }
        )
    return rows


def _refresh_callbacks(
    session: Session,
    lake: Path,
    tz: ZoneInfo,
    state: LakeState,
    result: RefreshResult,
    now: datetime,
) -> None:
    for chunk in _new_rows(session, Callback, state):
        rows = _callback_rows(session, chunk)
        _mark_dirty(state, _write_parts(lake, state, "callbacks", rows, "at", tz))
        result.rows["callbacks"] += len(rows)
        _advance(lake, state, Callback.__tablename__, [r["id"] for r in rows], now)
    _expire_gaps(state, Callback.__tablename__, now)


def _refresh_assessed(lake: Path, state: LakeState, result: RefreshResult) -> None:
    """Re-derive the assessed rows of every month marked dirty (all months, the first time
    or on a lake written before the assessed table existed)."""
    dirty = set(state.watermarks.get("assessed_dirty", []))
    if not state.watermarks.get("assessed"):
        dirty |= set(callback_months(lake))
    if not dirty and state.watermarks.get("assessed"):
        return
    written = build_assessed(lake, dirty)
    if written:
        result.rows["assessed"] += written
    state.watermarks["assessed_dirty"] = []
    state.watermarks["assessed"] = 1
    state.save(lake)


def _case_row(m: Any) -> dict[str, Any]:
    row = {name: m[name] for name in SCHEMAS["cases"].names}
    # The lake is read by analysts and its files are copied around: its text is redacted as on
    # every other surface of masked readers (phones, ID numbers, e-mails, cards). Topics are
    # mined from the words, which stay.
    row["text"] = redact(row["text"] or "")
    return row


def _refresh_cases(
    session: Session, lake: Path, tz: ZoneInfo, state: LakeState, result: RefreshResult
) -> None:
    raw = state.watermarks.get("cases")
    t = Case.__table__
    stmt = select(*(t.c[n] for n in SCHEMAS["cases"].names)).order_by(t.c.id)
    if raw:
        stmt = stmt.where(t.c.updated_at >= datetime.fromisoformat(raw) - CASE_OVERLAP)
    old: datetime | None = datetime.fromisoformat(raw) if raw else None
    newest = old
    # Gathered over all chunks: each month file is read and rewritten once per refresh.
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(session, stmt):
        for r in chunk:
            row = _case_row(r._mapping)
            by_month[month_of(row["created_at"], tz)].append(row)
            if newest is None or row["updated_at"] > newest:
                newest = row["updated_at"]
            # The overlap re-reads a few unchanged rows; only count the new ones.
            if old is None or row["updated_at"] > old:
                result.rows["cases"] += 1
        for month in [m for m, rows in by_month.items() if len(rows) >= MERGE_BATCH]:
            _merge_month(lake, month, by_month.pop(month))  # bounded memory on a first export
    for month, rows in by_month.items():
        _merge_month(lake, month, rows)
    if newest is not None:
        state.watermarks["cases"] = newest.isoformat()
        state.save(lake)


def _merge_month(lake: Path, month: str, rows: list[dict[str, Any]]) -> None:
    """Replace the changed cases' rows in their blocks of the month, one atomic rewrite per
    block touched; the other blocks are not read."""
    root = lake / "cases" / f"month={month}"
    _split_legacy(root)
    for block, part in case_blocks(pa.Table.from_pylist(rows, schema=SCHEMAS["cases"])):
        path = root / case_block_name(block)
        if path.exists():
            old = pq.read_table(path, schema=SCHEMAS["cases"])
            keep = pc.invert(pc.is_in(old["id"], value_set=part["id"]))
            part = pa.concat_tables([old.filter(keep), part]).sort_by("id")
        write_atomic(part, path)


def _split_legacy(root: Path) -> None:
    """A month written as one file (before blocks) is split into blocks once. The blocks are
    written before the old file goes, and nothing is merged until it has gone, so a crash in
    between only means the split is done again from the same file."""
    legacy = root / LEGACY_CASE_FILE
    if not legacy.exists():
        return
    for block, part in case_blocks(pq.read_table(legacy, schema=SCHEMAS["cases"])):
        write_atomic(part, root / case_block_name(block))
    legacy.unlink()


def _refresh_reference(session: Session, lake: Path, result: RefreshResult) -> None:
    units = [
        {"code": u.code, "name": u.name, "kind": u.kind, "parent_code": u.parent_code}
        for u in session.scalars(select(Unit).order_by(Unit.code))
    ]
    write_atomic(pa.Table.from_pylist(units, schema=SCHEMAS["units"]), lake / "units/data.parquet")
    cats = [
        {"code": c.code, "name": c.name, "level": c.level, "parent_code": c.parent_code}
        for c in session.scalars(select(Category).order_by(Category.code))
    ]
    path = lake / "categories/data.parquet"
    write_atomic(pa.Table.from_pylist(cats, schema=SCHEMAS["categories"]), path)
    result.units = len(units)
