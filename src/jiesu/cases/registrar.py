"""Registrations committed in groups: each server process has one registrar thread that takes
every registration waiting, triages each, and stores them all in one transaction.

Under load most of a registration's cost was fixed per transaction and per statement (BEGIN,
one INSERT each for the case, its event and the SMS, COMMIT, the ORM's work around each); a
group of N shares them. A group is never held back to fill: the registrar takes what has arrived
while it was busy with the previous group, so a lone registration goes at once and a busy
server forms groups by itself; under load (the last group had more than one) it also waits a
moment (JIESU_REGISTER_LINGER_MS, 1 ms) for more, as a bigger group costs less each.

What stays true:
- a registration is answered 201 only after the transaction holding its case, its first event
  and its SMS has committed: an acknowledged request is never lost;
- each registration is checked on its own: one with an unknown street gets its 422 and the
  others of its group are stored;
- if the group's transaction fails for any other reason than the database being gone, each
  registration is tried again alone, so one bad row cannot sink the others; with the database
  gone every one of them gets the 503 it would have got alone;
- two registrations of one group that look alike are offered to each other as duplicates, as
  they would have been one after the other (`_link_siblings`);
- a registration whose client went away before the registrar took it is not stored.

- an Idempotency-Key works as on the one-at-a-time path (intake/idempotency.py): a key already
  stored answers with the first result (or 422 for another body), a key sent twice in one group
  stores one case and answers the second as a replay, and a key committed meanwhile by another
  process makes the group fail at its commit (the unique key), so each is tried alone and that
  one replays.

Registrations of other channels (pages, Open311) take the one-at-a-time path
(cases/service.register_case).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import orjson
from sqlalchemy import Dialect, Table, insert, inspect, select, text, update
from sqlalchemy import types as sa_types
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from jiesu.audit.append import chain_new_cases
from jiesu.auth.actor import Actor
from jiesu.cases import queries, service
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.schemas import CaseOut, RegisterIn
from jiesu.clock import Clock
from jiesu.db import Base
from jiesu.errors import DomainError
from jiesu.intake import idempotency
from jiesu.notify.models import Notification
from jiesu.notify.outbox import service as outbox
from jiesu.triage.duplicates import DEFAULT_THRESHOLD, DupCandidate, cached_profile, find_duplicates
from jiesu.triage.service import group_engine, prime, proposal_record
from jiesu.triage.window import RECENT, belongs, place_of
from jiesu.uow import UnitOfWork

log = logging.getLogger(__name__)

# A case's column defaults (version 1, reply_text "" …), as the INSERT fills them in: the
# answer is made from the row, not read back.
_DEFAULTS = {
    attr.key: column.default.arg
    for attr in inspect(Case).column_attrs
    for column in attr.columns[:1]
    if isinstance(column.default, ScalarElementColumnDefault)
}

# A registrar thread with nothing to do for this long ends; the next registration starts one.
IDLE_SECONDS = 2.0


@dataclass(frozen=True)
class Registered:
    """The answer to one registration: its case, the HTTP status, and whether it replays the
    answer to an earlier request with the same Idempotency-Key."""

    case: CaseOut
    status: int = 201
    replayed: bool = False


@dataclass(frozen=True)
class Request:
    actor: Actor
    cmd: RegisterIn
    key: str | None = None  # the Idempotency-Key, checked


@dataclass
class _Job:
    request: Request
    future: Future[Registered]
    # An event loop's caller (`register`) waits on an asyncio future of its loop, settled from
    # `future` once the group is done: one wake-up of the loop per group, not one per job.
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Registered] | None = None


class Registrar:
    def __init__(
        self, factory: sessionmaker[Session], clock: Clock, max_group: int, linger: float = 0.0
    ) -> None:
        self._factory = factory
        self._clock = clock
        self._max_group = max(1, max_group)
        self._linger = max(0.0, linger)
        self._last_group = 1
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    async def register(self, request: Request) -> Registered:
        """Register one case; answers once it has committed (or raises what it would alone)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Registered] = loop.create_future()
        job = _Job(request, Future(), loop, waiter)
        self._put(job)
        try:
            return await waiter
        except asyncio.CancelledError:
            # The caller has gone: the registrar drops the job unless it has started on it.
            job.future.cancel()
            raise

    def submit(self, request: Request) -> Future[Registered]:
        job = _Job(request, Future())
        self._put(job)
        return job.future

    def _put(self, job: _Job) -> None:
        with self._lock:
            self._jobs.put(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="registrar", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            # Under load (the last group was not alone) wait a moment for more: a bigger group
            # costs less per registration. A lone registration never waits.
            linger = self._linger if self._last_group > 1 else 0.0
            deadline = time.monotonic() + linger
            while len(group) < self._max_group:
                try:
                    wait = deadline - time.monotonic()
                    job = self._jobs.get(timeout=wait) if wait > 0 else self._jobs.get_nowait()
                except queue.Empty:
                    break
                group.append(job)
            self._last_group = len(group)
            # A job whose caller has gone (cancelled) is dropped before any work is done.
            group = [j for j in group if j.future.set_running_or_notify_cancel()]
            try:
                self._process(group)
            except Exception as exc:
                # A fault of the registrar itself must not leave its callers waiting, nor
                # stop the thread that later registrations wait on.
                log.exception("the registrar failed on a group of %d", len(group))
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
            _wake(group)

    def _process(self, group: list[_Job]) -> None:
        if not group:
            return
        try:
            with UnitOfWork(self._factory) as uow:
                outcomes = register_group(uow, self._clock, [j.request for j in group])
        except Exception as exc:
            if len(group) > 1 and not _database_gone(exc):
                log.warning("a group of %d registrations failed (%s); each alone", len(group), exc)
                for job in group:
                    self._process([job])
                return
            for job in group:
                job.future.set_exception(exc)
            return
        for job, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)


def _wake(group: list[_Job]) -> None:
    """Hand each event loop its callers' answers, in one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in group:
        if job.loop is not None:
            by_loop.setdefault(job.loop, []).append(job)
    for loop, jobs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: no one is waiting any more
            loop.call_soon_threadsafe(_settle, jobs)


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        waiter = job.waiter
        if waiter is None or waiter.done():  # cancelled meanwhile
            continue
        if not job.future.done():  # never so: every job of a group is answered before _wake
            waiter.set_exception(RuntimeError("the registrar gave no answer"))
            continue
        exc = job.future.exception()
        if exc is not None:
            waiter.set_exception(exc)
        else:
            waiter.set_result(job.future.result())


def _database_gone(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def register_group(
    uow: UnitOfWork, clock: Clock, group: list[Request]
) -> list[Registered | DomainError]:
    """Triage, check and store each registration of `group` in one transaction: the answer for
    each one, or the error that refused it."""
    session = uow.session
    now = clock.now()
    outcomes: list[Registered | DomainError | None] = [None] * len(group)
    hashes = [idempotency.body_hash(r.cmd.model_dump(mode="json")) if r.key else "" for r in group]
    stored = _stored_keys(session, group)
    # Every place's duplicate window brought up to date in one query for the whole group.
    RECENT.catch_up(session)
    engine = group_engine(session)  # one model and taxonomy for the whole group
    prime([r.cmd.text for r in group], engine)
    first_with: dict[tuple[str, str], int] = {}  # a key's first registration in this group
    repeats: list[tuple[int, int]] = []  # (a later one with the key, the first one)
    rows: list[tuple[int, dict[str, Any]]] = []
    for i, r in enumerate(group):
        scoped = (r.actor.username, r.key) if r.key else None
        if scoped is not None:
            if scoped in stored:
                outcomes[i] = _replay(session, r.actor, stored[scoped], hashes[i], now)
                continue
            if scoped in first_with:
                repeats.append((i, first_with[scoped]))
                continue
            first_with[scoped] = i
        proposal = proposal_record(
            session,
            now,
            text=r.cmd.text,
            address=r.cmd.address or None,
            lat=r.cmd.lat,
            lon=r.cmd.lon,
            caught_up=True,
            engine=engine,
        )
        try:
            rows.append((i, service.new_case_row(session, now, r.actor, r.cmd, proposal)))
        except DomainError as exc:
            outcomes[i] = exc
    made: list[tuple[int, Case]] = []
    if rows:
        # The cases: one INSERT … RETURNING their ids, in the rows' order. The objects made
        # from the rows are for the answers only; they are not in the session.
        ids = _insert_cases(session, [r for _, r in rows])
        made = [
            (i, Case(**{**_DEFAULTS, **row}, id=case_id))
            for (i, row), case_id in zip(rows, ids, strict=True)
        ]
        # Their first events, SMS and keys: one INSERT each for all rows (_insert_rows), as
        # Core statements on the tables: the ORM's bulk path only adds per-row work here.
        events = chain_new_cases(service.registered_event_row(c, group[i].actor) for i, c in made)
        _insert_rows(session, _table(CaseEvent), events)
        sms = [row for _, c in made if (row := outbox.registered_row(c, now)) is not None]
        _insert_rows(session, _table(Notification), sms)
        keys = [
            {
                "scope": group[i].actor.username,
                "key": group[i].key,
                "body_hash": hashes[i],
                "case_id": case.id,
                "response_status": 201,
                "created_at": now,
            }
            for i, case in made
            if group[i].key is not None
        ]
        _insert_rows(session, _table(idempotency.IdempotencyKey), keys)
        _link_siblings(session, [case for _, case in made])
        uow.on_commit(outbox.kick)
        uow.commit()
        for i, case in made:
            outcomes[i] = Registered(queries.new_case_out(group[i].actor, case, now))
    for i, first in repeats:
        # The same key twice in one group: the second is a retry of the first.
        answer = outcomes[first]
        if isinstance(answer, Registered) and hashes[i] == hashes[first]:
            outcomes[i] = Registered(answer.case, answer.status, replayed=True)
        elif isinstance(answer, Registered):
            outcomes[i] = idempotency.reused(answer.case.id)
        else:
            outcomes[i] = answer
    return [o for o in outcomes if o is not None]


# On PostgreSQL a group's case ids are taken from the sequence first, so that every table's rows
# go in as one INSERT … SELECT FROM unnest(one array per column): one statement text whatever the
# group's size (psycopg prepares it once), one round trip and one executor run for all rows. A
# multi-row INSERT … RETURNING has a new text for each size (and psycopg parses any statement of
# more than 50 parameters anew on every run); executemany sends and runs one statement per row.
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('case_record', 'id')) FROM generate_series(1, :n)"
)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _insert_cases(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert a group's cases; their ids, in the rows' order."""
    if session.get_bind().dialect.name == "postgresql":
        ids = [int(i) for i in session.scalars(_NEXT_IDS, {"n": len(rows)})]
        _insert_rows(
            session, _table(Case), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
        )
        return ids
    returning = insert(Case).returning(Case.id, sort_by_parameter_order=True)
    return list(session.scalars(returning, rows))


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns: on PostgreSQL as one statement reading the
    rows from one JSON parameter (the columns' Python-side defaults filled in, their bind
    processing applied), elsewhere as executemany."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = tuple(rows[0])
    if dialect.name != "postgresql" or any(len(row) != len(names) for row in rows):
        session.execute(insert(table), rows)
        return
    bulk = _bulk_insert(table, names, dialect)
    if bulk is None:  # a default only SQLAlchemy's own INSERT can compute
        session.execute(insert(table), rows)
        return
    full = [{**row, **{name: make(None) for name, make in bulk.defaults}} for row in rows]
    for name, process in bulk.processors:
        for row in full:
            row[name] = process(row[name])
    # orjson, not the standard encoder: in the stacks `bench/serve/groups.py --spy FILE` wrote,
    # encoding these rows (the proposals' nested JSON, the texts) took as long as running the
    # statement.
    payload = orjson.dumps(full, default=_json_value, option=_ORJSON)
    session.connection().exec_driver_sql(bulk.sql, (payload.decode(),))


# Datetimes through _json_value (a naive one is refused, as before); numpy's scalars as numbers.
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SERIALIZE_NUMPY


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a row to insert")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Bulk:
    sql: str
    defaults: list[tuple[str, _Processor]]  # columns left out, with a Python-side default
    processors: list[tuple[str, _Processor]]  # columns whose values SQLAlchemy processes


def _constant(value: Any) -> _Processor:
    return lambda _ctx: value


@lru_cache(maxsize=64)
def _bulk_insert(table: Table, names: tuple[str, ...], dialect: Dialect) -> _Bulk | None:
    """INSERT … SELECT FROM json_populate_recordset(NULL::table, %s): the rows as one JSON
    array, each member read as a row of the table (JSON null is SQL NULL, a JSON column takes
    the member's value as it is). Columns left out that have a Python-side default get it.
    A JSON column's value goes into the array as it is; other columns' bind processing (UTC
    datetimes) is applied first. None where SQLAlchemy's own INSERT would differ: a column left
    out whose default is an SQL expression, or a JSON column that stores None as JSON null."""
    columns = [table.c[name] for name in names]
    defaults: list[tuple[str, _Processor]] = []
    for column in table.c:
        default = column.default
        if column.name in names or default is None:
            continue
        if isinstance(default, ScalarElementColumnDefault):
            defaults.append((column.name, _constant(default.arg)))
        elif isinstance(default, CallableColumnDefault):
            defaults.append((column.name, default.arg))
        else:
            return None
        columns.append(column)
    processors: list[tuple[str, _Processor]] = []
    for column in columns:
        impl = column.type.dialect_impl(dialect)
        if isinstance(impl, sa_types.JSON):
            if not impl.none_as_null:
                return None
            continue
        process = impl.bind_processor(dialect)
        if process is not None:
            processors.append((column.name, process))
    listed = ", ".join(c.name for c in columns)
    sql = (
        f"INSERT INTO {table.name} ({listed}) SELECT {listed} "
        f"FROM json_populate_recordset(NULL::{table.name}, CAST(%s AS json))"
    )
    return _Bulk(sql, defaults, processors)


def _stored_keys(
    session: Session, group: list[Request]
) -> dict[tuple[str, str], idempotency.IdempotencyKey]:
    """The group's Idempotency-Keys already stored, by (scope, key): one query for all, on
    the (scope, key) unique index (a key alone is its second column: a whole-table scan). Asked
    as plain columns (a retry is rare; the ORM's per-query work is not), and only the keys found
    are loaded as objects."""
    wanted = {(r.actor.username, r.key) for r in group if r.key}
    if not wanted:
        return {}
    key = idempotency.IdempotencyKey
    rows = session.connection().execute(
        select(key.id, key.scope, key.key).where(
            key.scope.in_({scope for scope, _ in wanted}), key.key.in_({k for _, k in wanted})
        )
    )
    ids = [row.id for row in rows if (row.scope, row.key) in wanted]
    if not ids:
        return {}
    return {(k.scope, k.key): k for k in session.scalars(select(key).where(key.id.in_(ids)))}


def _replay(
    session: Session,
    actor: Actor,
    row: idempotency.IdempotencyKey,
    body_hash: str,
    now: datetime,
) -> Registered | DomainError:
    if row.body_hash != body_hash:
        return idempotency.reused(row.case_id)
    try:
        case = queries.get_case(session, actor, row.case_id, now)
    except DomainError as exc:
        return exc
    return Registered(case, row.response_status, replayed=True)


def _link_siblings(session: Session, cases: list[Case]) -> None:
    """Duplicates among one group's cases: each case's proposal came from its place's window,
    which did not hold the cases of its own group; the earlier ones of the group that match
    are added, as if they had been registered one after the other."""
    if len(cases) < 2:
        return
    for k, case in enumerate(cases[1:], start=1):
        triage: dict[str, Any] | None = case.triage
        if not triage:
            continue
        place = triage.get("place") or {}
        street, district = place.get("street_code"), place.get("district_code")
        window = place_of(street, district)
        earlier = [
            DupCandidate(c.id, c.text, c.street, c.created_at, c.status, cached_profile(c.text))
            for c in cases[:k]
            if belongs(window, c.street, c.district)
        ]
        if not earlier:
            continue
        found = find_duplicates(case.text, street, earlier, threshold=DEFAULT_THRESHOLD)
        if not found:
            continue
        merged = [*triage.get("duplicates", []), *(m.to_dict() for m in found)]
        merged.sort(key=lambda d: -float(d["score"]))
        case.triage = {**triage, "duplicates": merged[:5]}
        session.execute(update(Case).where(Case.id == case.id).values(triage=case.triage))
