"""Registering cases: the one path every channel takes (the API through its registrar, the
pages, Open311, the demo), for a group of registrations or a group of one.

`register_cases` stores a group in one transaction, and says for each registration what
became of it:
- each is checked on its own (cases/service.new_case_row): one with an unknown street gets its
  422 and the others are stored;
- each new case is stored with its first hash-chained event, the citizen's SMS, its
  Idempotency-Key and the channel's own rows (an Open311 token), and is answered only after
  that transaction has committed;
- an Idempotency-Key already stored answers with the first result (or 422 for another body); a
  key sent twice in one group stores one case and answers the second as a replay
  (intake/idempotency.py);
- two cases of one group that look alike are offered to each other as duplicates, as they
  would have been one after the other (`_link_siblings`);
- if the group's transaction fails for any other reason than the database being gone, each
  registration is tried again alone, so one bad row cannot sink the others; a lone one whose
  key another process committed meanwhile (the unique key fails its commit) is tried once more
  and replays that key's answer. With the database gone every one gets that error.

The rows go in as one statement a table for the whole group (jiesu/db_bulk.py): under load
most of a registration's cost was fixed per transaction and per statement.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from jiesu.audit.append import chain_new_cases
from jiesu.auth.actor import Actor
from jiesu.cases import queries, service
from jiesu.cases.models import Case, CaseEvent
from jiesu.cases.schemas import CaseOut, RegisterIn
from jiesu.clock import Clock
from jiesu.db_bulk import insert_returning_ids, insert_rows
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

Also = Callable[[Session, Case], None]


@dataclass(frozen=True)
class Registration:
    actor: Actor
    cmd: RegisterIn
    # The client's Idempotency-Key (Open311: the digest of its form); scoped to actor.username.
    key: idempotency.Key | None = None
    # True: the live triage engine's proposal is stored with the case (and duplicates linked).
    propose: bool = False
    # Else the proposal the caller already made (tests, `jiesu model report`'s fixtures), or none.
    triage: dict[str, object] | None = None
    # The channel's own rows for the new case (an Open311 token), in its transaction.
    also: Also | None = None


@dataclass(frozen=True)
class Registered:
    """The answer to one registration: its case, the HTTP status, and whether it replays the
    answer to an earlier request with the same key. `record`: the new case's row (none for a
    replay), as the one-at-a-time callers use it; it is not in any session."""

    case: CaseOut
    status: int = 201
    replayed: bool = False
    record: Case | None = field(default=None, compare=False, repr=False)


Outcome = Registered | Exception


def register_case(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    cmd: RegisterIn,
    *,
    triage: dict[str, object] | None = None,
) -> Case:
    """One registration as a group of one; raises what refused it."""
    return _one(register_cases(uow, clock, [Registration(actor, cmd, triage=triage)]))


def _one(outcomes: list[Outcome]) -> Case:
    (outcome,) = outcomes
    if isinstance(outcome, Exception):
        raise outcome
    assert outcome.record is not None  # no key: never a replay
    return outcome.record


def register_cases(uow: UnitOfWork, clock: Clock, group: Sequence[Registration]) -> list[Outcome]:
    """Store `group` (one transaction, or each alone if that fails): the answer for each
    registration, or the exception that refused it."""
    if len(group) == 1:
        return [_alone(uow, clock, group[0])]
    try:
        return _store(uow, clock, group)
    except Exception as exc:
        _rollback(uow)
        if _database_gone(exc):
            return [exc] * len(group)
        log.warning("a group of %d registrations failed (%s); each alone", len(group), exc)
    outcomes: list[Outcome] = []
    for registration in group:
        gone = next((o for o in outcomes if isinstance(o, Exception) and _database_gone(o)), None)
        outcomes.append(gone if gone is not None else _alone(uow, clock, registration))
    return outcomes


def _alone(uow: UnitOfWork, clock: Clock, registration: Registration) -> Outcome:
    tries = 2 if registration.key is not None else 1
    for attempt in range(1, tries + 1):
        try:
            return _store(uow, clock, [registration])[0]
        except Exception as exc:
            _rollback(uow)
            # The unique key: another process committed this key meanwhile; tried again, the
            # registration finds it and replays (or is refused for another body).
            if attempt == tries or not isinstance(exc, IntegrityError):
                return exc
    raise AssertionError("unreachable")


def _rollback(uow: UnitOfWork) -> None:
    with contextlib.suppress(DBAPIError):  # a connection that died has nothing to roll back
        uow.rollback()


def _database_gone(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _store(uow: UnitOfWork, clock: Clock, group: Sequence[Registration]) -> list[Outcome]:
    """Triage, check and store each registration of `group` in one transaction."""
    session = uow.session
    now = clock.now()
    outcomes: list[Outcome | None] = [None] * len(group)
    keyed = [
        (r.actor.username, _hashed(r.key, r.cmd)) if r.key is not None else None for r in group
    ]
    keys = idempotency.GroupKeys(session, keyed, now)
    proposing = [r.cmd.text for r in group if r.propose]
    engine = None
    if proposing:
        # Every place's duplicate window brought up to date in one query for the whole group,
        # one model and taxonomy for the whole group, its texts classified together.
        RECENT.catch_up(session)
        engine = group_engine(session)
        prime(proposing, engine)
    repeats: list[tuple[int, int]] = []  # (a later one with a key, the group's first with it)
    rows: list[tuple[int, dict[str, Any]]] = []
    for i, r in enumerate(group):
        stored = keys.stored(i)
        if stored is not None:
            outcomes[i] = _replay(session, r.actor, stored, keys.same_body(i, stored), now)
            continue
        first = keys.earlier_in_group(i)
        if first is not None:
            repeats.append((i, first))
            continue
        triage = r.triage
        if r.propose:
            triage = proposal_record(
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
            rows.append((i, service.new_case_row(session, now, r.actor, r.cmd, triage)))
        except DomainError as exc:
            outcomes[i] = exc
    if rows:
        # The objects made from the rows are for the answers and the channels' rows; they are
        # not in the session.
        ids = insert_returning_ids(session, Case, [row for _, row in rows])
        made = [
            (i, Case(**{**_DEFAULTS, **row}, id=case_id))
            for (i, row), case_id in zip(rows, ids, strict=True)
        ]
        events = chain_new_cases(service.registered_event_row(c, group[i].actor) for i, c in made)
        insert_rows(session, CaseEvent, events)
        sms = [row for _, c in made if (row := outbox.registered_row(c, now)) is not None]
        insert_rows(session, Notification, sms)
        keys.store(session, [(i, case.id) for i, case in made])
        for i, case in made:
            also = group[i].also
            if also is not None:
                also(session, case)
        _link_siblings(session, [case for i, case in made if group[i].propose])
        uow.on_commit(outbox.kick)
        uow.commit()
        for i, case in made:
            outcomes[i] = Registered(queries.new_case_out(group[i].actor, case, now), record=case)
    for i, first in repeats:
        # The same key twice in one group: the second is a retry of the first.
        answer = outcomes[first]
        if isinstance(answer, Registered) and keys.same_body(i, first):
            outcomes[i] = Registered(answer.case, answer.status, replayed=True)
        elif isinstance(answer, Registered):
            outcomes[i] = idempotency.reused(answer.case.id)
        else:
            outcomes[i] = answer
    return [o for o in outcomes if o is not None]


def _hashed(key: idempotency.Key, cmd: RegisterIn) -> idempotency.Key:
    """The key with its body's hash: the command's canonical JSON unless the channel gave one."""
    if key.body_hash:
        return key
    body_hash = idempotency.body_hash(cmd.model_dump(mode="json"))
    return idempotency.Key(key.value, body_hash, key.fresh_for)


def _replay(
    session: Session, actor: Actor, row: idempotency.IdempotencyKey, same_body: bool, now: datetime
) -> Outcome:
    if not same_body:
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
