"""kill -9 of the server in the middle of registrations: every registration that got a
success answer is in the database afterwards, with its event row, and the server comes back.
Bounded (a few seconds of load) and loopback only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from jiesu.cases.models import Case, CaseEvent
from jiesu.db import make_engine, make_session_factory
from tests.conftest import T0, pg_or_skip, pg_scratch_url
from tests.databases import migrate_and_seed
from tests.serverproc import Server

BODY = {
    "text": "东华门街道幸福里小区路灯不亮，晚上出行不便",
    "request_type": "complaint",
    "street": "110101001",
    "citizen": {"name": "王芳", "phone": "13812345678"},
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        url = pg_scratch_url("crash")
        pg_or_skip(url)
    migrate_and_seed(url, users_at=T0)
    yield url


def _load(base: str, token: str, acked: list[int], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
        while not stop.is_set():
            try:
                resp = client.post("/api/v1/cases", json=BODY)
            except httpx.HTTPError:
                continue  # the server is gone: keep trying until told to stop
            if resp.status_code == 201:
                acked.append(resp.json()["id"])


def test_kill_9_loses_no_acknowledged_registration(fresh_url: str) -> None:
    server = Server(fresh_url, workers=2)
    server.start()
    try:
        token = server.token("agent")
        acked: list[int] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_load, args=(server.base, token, acked, stop)) for _ in range(4)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL to master and workers, mid-request
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert len(acked) >= 20, "the load never got going"
        server.start()  # comes back on the same database
        again = httpx.post(
            f"{server.base}/api/v1/cases",
            json=BODY,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert again.status_code == 201
    finally:
        server.kill()
    engine = make_engine(fresh_url)
    with make_session_factory(engine)() as session:
        stored = set(session.scalars(select(Case.id)))
        missing = set(acked) - stored
        assert not missing, f"acknowledged but lost: {sorted(missing)[:10]}"
        # Every stored case has its register event: nothing half-written.
        without_event = session.scalar(
            select(func.count())
            .select_from(Case)
            .where(~select(CaseEvent.id).where(CaseEvent.case_id == Case.id).exists())
        )
        assert without_event == 0
        statuses = set(session.scalars(select(Case.status).distinct()))
        assert statuses == {"registered"}
    engine.dispose()
