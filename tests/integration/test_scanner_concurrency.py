"""The deadline scanner run as real `jiesu jobs scan` processes (issue 8, items 2 and 3).

Two scanners at once over a few hundred due cases add every reminder, overdue mark and unit
notice exactly once; a scanner killed with SIGKILL in the middle of its run leaves nothing
half-done, and the next run adds everything, once.

Two at once: both are held at a barrier — a lock the test takes on what the scan writes — so
that both have read the due cases before either writes, the worst case for doubling. On
PostgreSQL the test sees both wait (pg_stat_activity: one for the barrier, holding the
scanners' advisory lock, the other for that lock); on SQLite it waits until each has the
database file open, then a second more (the cases are read in milliseconds).

Killed mid-run: on PostgreSQL the test holds one overdue row's key in an open transaction, so
the scanner has inserted its reminder rows and waits on that key when it is killed; on SQLite
it is killed while held at the barrier, its cases read and nothing written yet. A scan is one
transaction, so there is no "after the first commit": the next run does all the work.

The scanner reads the real clock (`jiesu jobs scan` takes no clock), so the due times are set
relative to now: every other case is overdue on both its contact and reply clocks, the others
are due within hours on both (催办 reminders).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from jiesu.cases.models import Case, Reminder
from jiesu.clock import FixedClock
from jiesu.notify.models import Notification, UnitContact
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, do, register

CASES = 240  # 480 scanner rows (one insert batch is 500) and 960 unit notices
APP = "jiesu-h4-scan"  # application_name of the scanner processes' PostgreSQL sessions
JIESU = Path(sys.executable).with_name("jiesu")


def due_cases(db: Database, n: int = CASES) -> dict[tuple[int, str, str], datetime]:
    """n dispatched cases, every other one overdue and the others due soon, and an e-mail and
    SMS contact for their unit. Returns the scanner rows expected: (case, kind, stage) -> due."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now - timedelta(days=20))
    ids = []
    for _ in range(n):
        case = register(db, clock)
        do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
        ids.append(case.id)
    expected: dict[tuple[int, str, str], datetime] = {}
    with db.uow() as uow:
        uow.session.add(UnitContact(unit_code=STREET, email="dhm@example.org", phone="010-1"))
        for i, case_id in enumerate(ids):
            case = uow.session.get_one(Case, case_id)
            stage = "overdue" if i % 2 else "reminder"
            shift = timedelta(hours=-30) if stage == "overdue" else timedelta(hours=2)
            case.contact_due, case.reply_due = now + shift, now + shift + timedelta(hours=1)
            expected[(case_id, "contact", stage)] = case.contact_due
            expected[(case_id, "reply", stage)] = case.reply_due
        uow.commit()
    return expected


def start_scan(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JIESU_DATABASE_URL": url, "JIESU_LOG_LEVEL": "warning"}
    env["PGAPPNAME"] = APP  # libpq: lets the test find the scanner's session
    return subprocess.Popen(
        [str(JIESU), "jobs", "scan"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def sqlite_path(url: str) -> Path:
    return Path(sa.engine.make_url(url).database or "")


def has_open(pid: int, path: Path) -> bool:
    """Whether process pid has the file open (Linux /proc)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir())
    except OSError:
        return False


def waiting_scanners(db: Database) -> int:
    """PostgreSQL: how many scanner sessions are waiting for a lock."""
    with db.engine.connect() as conn:
        return int(
            conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = :app AND wait_event_type = 'Lock'"
                ),
                {"app": APP},
            )
            or 0
        )


def scanner_waits(db: Database) -> list[str]:
    """PostgreSQL: what each scanner session is waiting for."""
    with db.engine.connect() as conn:
        query = "SELECT wait_event FROM pg_stat_activity WHERE application_name = :app"
        return sorted(str(w) for w in conn.scalars(sa.text(query), {"app": APP}))


def scanner_sessions(db: Database) -> int:
    with db.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"
        return int(conn.scalar(sa.text(query), {"app": APP}) or 0)


@contextmanager
def barrier(db: Database) -> Iterator[None]:
    """Hold every scanner before its first write to case_reminder until the block ends."""
    if db.backend == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(sa.text("LOCK TABLE case_reminder IN SHARE ROW EXCLUSIVE MODE"))
            yield
            conn.rollback()
        return
    path = sqlite_path(db.url)
    lock = sqlite3.connect(path, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # the write lock; readers go on (WAL)
        yield
        lock.execute("ROLLBACK")
    finally:
        lock.close()


def arrived(db: Database, procs: list[subprocess.Popen[bytes]]) -> None:
    """Wait until every scanner is held at the barrier."""
    if db.backend == "postgresql":
        wait_for(lambda: waiting_scanners(db) == len(procs), "the scanners to wait")
        return
    path = sqlite_path(db.url)
    wait_for(lambda: all(has_open(p.pid, path) for p in procs), "the scanners to connect")
    time.sleep(1.0)  # well under the 10 s busy timeout; the due cases are read in ms


def scanner_rows(db: Database) -> list[tuple[int, str, str, datetime]]:
    with db.engine.connect() as conn:
        return [
            (r.case_id, r.kind, r.stage, r.due)
            for r in conn.execute(sa.select(Reminder).order_by(Reminder.id))
        ]


def unit_notices(db: Database) -> list[tuple[int, str, str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(Notification).where(Notification.template.in_(["reminder", "overdue"]))
        )
        return [(r.case_id, r.template, r.channel, r.payload["kind"]) for r in rows]


def assert_exactly_once(db: Database, expected: dict[tuple[int, str, str], datetime]) -> None:
    rows = scanner_rows(db)
    assert len(rows) == len(set(rows)), "a scanner row was added twice"
    assert {(c, k, s): d for c, k, s, d in rows} == expected
    notices = unit_notices(db)
    assert len(notices) == len(set(notices)), "a unit was notified twice"
    assert sorted(notices) == sorted(
        (c, s, channel, k) for c, k, s in expected for channel in ("email", "sms")
    )


def test_two_scanners_at_once_add_everything_once(db: Database) -> None:
    expected = due_cases(db)
    procs = [start_scan(db.url), start_scan(db.url)]
    try:
        with barrier(db):
            arrived(db, procs)
            if db.backend == "postgresql":
                # One holds the scanners' advisory lock and waits at the barrier; the other
                # waits for its turn.
                assert scanner_waits(db) == ["advisory", "relation"]
        outputs = [finish(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    reminders = len([k for k in expected if k[2] == "reminder"])
    overdue = len(expected) - reminders
    # One scanner added everything, the other nothing: together exactly what was due.
    assert sorted(outputs) == [
        "0 reminders, 0 overdue recorded\n",
        f"{reminders} reminders, {overdue} overdue recorded\n",
    ]
    assert_exactly_once(db, expected)


def test_a_scanner_killed_mid_run_leaves_nothing_half_done(db: Database) -> None:
    expected = due_cases(db)
    if db.backend == "postgresql":
        # Hold one overdue row's key in an open transaction: the scanner writes its reminder
        # rows (the first insert batches), then waits on that key, mid-run.
        held = max(k for k in expected if k[2] == "overdue")
        conn = db.engine.connect()
        conn.execute(
            sa.insert(Reminder).values(
                case_id=held[0],
                kind=held[1],
                stage=held[2],
                due=expected[held],
                unit_code=STREET,
                created_at=datetime.now(UTC),
            )
        )
        proc = start_scan(db.url)
        try:
            wait_for(lambda: waiting_scanners(db) == 1, "the scanner to wait mid-run")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)
            conn.rollback()
            conn.close()
        # The killed client's session finishes its statement, finds no client, rolls back.
        wait_for(lambda: scanner_sessions(db) == 0, "the killed scanner's session to end")
    else:
        proc = start_scan(db.url)
        with barrier(db):
            try:
                arrived(db, [proc])
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert scanner_rows(db) == [] and unit_notices(db) == []  # all or nothing: nothing
    out = finish(start_scan(db.url))
    reminders = len([k for k in expected if k[2] == "reminder"])
    assert out == f"{reminders} reminders, {len(expected) - reminders} overdue recorded\n"
    assert_exactly_once(db, expected)
    assert finish(start_scan(db.url)) == "0 reminders, 0 overdue recorded\n"
    assert_exactly_once(db, expected)
