"""PostgreSQL stopped and started again under registration load (issue 8, item 2).

A private cluster (tests/pgcluster.py, never the shared one) serves a real `jiesu serve` with
two workers while threads register cases and a dispatcher dispatches them. Mid-load the
database is stopped — `fast` (sessions ended, a clean shutdown) or `immediate` (the server
dies and replays its WAL at the next start, as after a crash) — held down until the clients
have seen it, and started again. Then:

- every request answered during the outage was a 503 `unavailable` (no 500, no hang);
- service resumes: registrations succeed again after the restart;
- every registration acknowledged (201, or 200 for an idempotent replay) is in the database
  with its event row, once: each Idempotency-Key names exactly one case and no case is
  without a key (a retry after an ambiguous 503 never registers twice);
- every dispatch acknowledged is there; every case's event chain verifies and its status is
  where its last event leads (`jiesu audit verify`'s check).

Bounded: about 10 s of load per mode, loopback only.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from jiesu.audit.verify import verify
from jiesu.cases.models import Case, CaseEvent
from jiesu.db import make_engine, make_session_factory
from jiesu.intake.idempotency import IdempotencyKey
from jiesu.uow import UnitOfWork
from tests.conftest import REQUIRE_PG, T0, SeededPg
from tests.databases import migrate_and_seed, recreate_pg
from tests.pgcluster import ClusterUnavailable, PgCluster, find_bindir
from tests.serverproc import Server

pytestmark = pytest.mark.postgres

BODY = {
    "text": "东华门街道幸福里小区路灯不亮，晚上出行不便",
    "request_type": "complaint",
    "street": "110101001",
    "citizen": {"name": "王芳", "phone": "13812345678"},
}
STREET = "110101001"
REQUEST_TIMEOUT = 15.0  # a request still unanswered after this is a hang
RETRY_FOR = 30.0  # a client gives up on one registration after this long
SERVER_START = 120.0  # two workers importing the app on a busy 2-core CI machine


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    try:
        pg = PgCluster.create(bindir)
    except ClusterUnavailable as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required and its binaries exist, but: {exc}")
        pytest.skip(str(exc))
    try:
        yield pg
    finally:
        pg.destroy()


@dataclass
class Observed:
    """What the clients saw; lists are appended to from several threads (append is atomic)."""

    registered: dict[str, int] = field(default_factory=dict)  # Idempotency-Key -> case id
    replays: list[str] = field(default_factory=list)
    dispatched: list[int] = field(default_factory=list)
    unavailable: list[float] = field(default_factory=list)  # when each 503 came
    unexpected: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked(self) -> int:
        with self.lock:
            return len(self.registered)


def _note_failure(seen: Observed, what: str, resp: httpx.Response) -> None:
    code = resp.json().get("error", {}).get("code") if resp.content else None
    if resp.status_code == 503 and code == "unavailable":
        seen.unavailable.append(time.monotonic())
    else:
        seen.unexpected.append(f"{what}: {resp.status_code} {resp.text[:200]}")


def _register_one(client: httpx.Client, seen: Observed) -> None:
    """One registration, retried with the same Idempotency-Key until it is acknowledged."""
    key = uuid.uuid4().hex
    give_up = time.monotonic() + RETRY_FOR
    while time.monotonic() < give_up:
        try:
            resp = client.post("/api/v1/cases", json=BODY, headers={"Idempotency-Key": key})
        except httpx.TimeoutException:
            seen.hangs.append(f"register {key}")
            continue
        except httpx.HTTPError as exc:  # the server itself never goes away in this test
            seen.unexpected.append(f"register {key} at {time.monotonic():.2f}: {exc!r}")
            time.sleep(0.1)
            continue
        if resp.status_code in (200, 201):
            with seen.lock:
                seen.registered[key] = int(resp.json()["id"])
            if resp.status_code == 200:
                seen.replays.append(key)
            return
        _note_failure(seen, "register", resp)
        time.sleep(0.05)
    seen.gave_up.append(key)


def _registrar(base: str, token: str, seen: Observed, stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        while not stop.is_set():
            _register_one(client, seen)


def _dispatcher(base: str, token: str, seen: Observed, stop: threading.Event) -> None:
    """Dispatches registered cases; after an ambiguous 503 a retry may find it done (409)."""
    headers = {"Authorization": f"Bearer {token}"}
    done: set[int] = set()
    with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        while not stop.is_set():
            with seen.lock:
                todo = [i for i in seen.registered.values() if i not in done][:5]
            if not todo:
                time.sleep(0.05)
                continue
            for case_id in todo:
                ambiguous = False
                while not stop.is_set():
                    try:
                        resp = client.post(
                            f"/api/v1/cases/{case_id}/dispatch", json={"lead_unit": STREET}
                        )
                    except httpx.TimeoutException:
                        seen.hangs.append(f"dispatch {case_id}")
                        ambiguous = True
                        continue
                    except httpx.HTTPError as exc:
                        seen.unexpected.append(f"dispatch {case_id}: {exc!r}")
                        ambiguous = True
                        time.sleep(0.1)
                        continue
                    if resp.status_code == 200 or (resp.status_code == 409 and ambiguous):
                        seen.dispatched.append(case_id)
                        break
                    _note_failure(seen, f"dispatch {case_id}", resp)
                    ambiguous = resp.status_code == 503
                    time.sleep(0.05)
                done.add(case_id)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_loses_no_acknowledged_registration(
    cluster: PgCluster, mode: str, tmp_path: Path
) -> None:
    url = cluster.url(f"jiesu_restart_{mode}")
    recreate_pg(url)
    migrate_and_seed(url, users_at=T0)
    log = tmp_path / "server.log"
    server = Server(url, workers=2, log=log)
    server.start(timeout=SERVER_START)
    seen = Observed()
    stop = threading.Event()
    try:
        agent, dispatcher = server.token("agent"), server.token("dispatcher")
        threads = [
            threading.Thread(target=_registrar, args=(server.base, agent, seen, stop))
            for _ in range(3)
        ]
        threads.append(
            threading.Thread(target=_dispatcher, args=(server.base, dispatcher, seen, stop))
        )
        for t in threads:
            t.start()
        try:
            _wait(lambda: seen.acked() >= 20, 30, "the load to get going")
            cluster.stop(mode)
            down_at = time.monotonic()
            # Counted from when the stop returned: 503s during a fast shutdown come earlier,
            # and the clients must be seen answered while the database is wholly down.
            _wait(
                lambda: sum(at >= down_at for at in seen.unavailable) >= 5,
                15,
                "503s while PostgreSQL is down",
            )
            cluster.start()
            up_at, before = time.monotonic(), seen.acked()
            _wait(lambda: seen.acked() >= before + 20, 30, "registrations after the restart")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=RETRY_FOR + REQUEST_TIMEOUT)
        assert not any(t.is_alive() for t in threads), "a client thread never finished"
        health = httpx.get(f"{server.base}/api/v1/health", timeout=10)
        assert health.status_code == 200
    finally:
        server.kill()

    server_log = log.read_text(encoding="utf-8", errors="replace")
    assert "Exception in ASGI application" not in server_log, server_log[-3000:]
    assert not seen.unexpected, seen.unexpected[:5]
    assert not seen.hangs, seen.hangs[:5]
    assert not seen.gave_up, "a registration was never acknowledged after the restart"
    assert any(down_at <= at <= up_at for at in seen.unavailable)
    _check_database(url, seen)


def _check_database(url: str, seen: Observed) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            keys = {
                k: i for k, i in conn.execute(sa.select(IdempotencyKey.key, IdempotencyKey.case_id))
            }
            cases = {i: s for i, s in conn.execute(sa.select(Case.id, Case.status))}
            registered = set(
                conn.scalars(sa.select(CaseEvent.case_id).where(CaseEvent.action == "register"))
            )
            dispatch_events = set(
                conn.scalars(sa.select(CaseEvent.case_id).where(CaseEvent.action == "dispatch"))
            )
            report = verify(conn)
    finally:
        engine.dispose()
    # Every acknowledged registration is there, under its key, with its register event.
    assert {k: keys.get(k) for k in seen.registered} == seen.registered
    assert set(seen.registered.values()) <= registered
    # Nothing registered twice or without a key: one case per key, one key per case.
    assert sorted(keys.values()) == sorted(cases)
    assert set(keys) == set(seen.registered)
    # Every acknowledged dispatch is there.
    assert set(seen.dispatched) <= dispatch_events
    assert all(cases[i] == "dispatched" for i in seen.dispatched)
    assert set(cases.values()) <= {"registered", "dispatched"}
    # Every chain intact, every status where its last event leads.
    assert report.ok, [str(p) for p in report.problems[:5]]
    assert report.cases == len(cases)


def test_a_connection_lost_after_the_work_closes_quietly(pg_seeded: SeededPg) -> None:
    """A request's unit of work closes after the response has started: a connection lost by
    then (the restart above) must not raise, or the server logs an ASGI exception (and a
    streamed response is cut)."""
    engine, admin = make_engine(pg_seeded.url), make_engine(pg_seeded.url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            pid = uow.session.scalar(sa.text("SELECT pg_backend_pid()"))
            with admin.connect() as conn:  # wait (up to 10 s) until that backend is gone
                gone = conn.scalar(sa.text("SELECT pg_terminate_backend(:p, 10000)"), {"p": pid})
            assert gone
        with UnitOfWork(make_session_factory(engine)) as uow:  # the pool gives a live one
            assert uow.session.scalar(sa.text("SELECT 1")) == 1
    finally:
        engine.dispose()
        admin.dispose()
