"""A real Open311 client library (georeport, from PyPI) against a live server on 127.0.0.1,
in both formats; and concurrent retries over real HTTP creating exactly one case."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import requests
import sqlalchemy as sa
import uvicorn
import xmltodict
from georeport import GeoReport

from jiesu.app import create_app
from jiesu.cases.models import Case, CaseEvent
from jiesu.clock import FixedClock
from jiesu.settings import Settings
from tests.api.test_open311 import HEATING, api_key, case_count, cleanup_clients, heating
from tests.conftest import Database

__all__ = ["api_key", "cleanup_clients"]  # fixtures shared with test_open311


@pytest.fixture
def live(db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """uvicorn in a thread on a free loopback port; stopped when the test ends."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    app = create_app(Settings(database_url=db.url), clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.engine.dispose()


def _one(value: Any) -> dict[str, Any]:
    # xmltodict gives a dict for one repeated element and a list for several.
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_library_round_trip(live: str, api_key: str, fmt: str) -> None:
    base = f"{live}/open311/v2"
    client = GeoReport(base, api_key=api_key, output_format=fmt)

    disc = requests.get(f"{base}/discovery.{fmt}", timeout=10)
    endpoint = (
        disc.json()["endpoints"][0]
        if fmt == "json"
        else xmltodict.parse(disc.content)["discovery"]["endpoints"]["endpoint"]
    )
    assert endpoint["url"] == base

    services = {s["service_code"]: s for s in client.get_service_list()}
    assert services[HEATING]["service_name"] == "室温不达标"
    assert str(services[HEATING]["metadata"]).lower() == "true"

    definition = client.get_service_definition(HEATING)
    attrs = definition["attributes"]
    attrs = attrs if fmt == "json" else attrs["attribute"]
    assert {a["code"] for a in attrs} == {"room_temp", "heating_type"}

    posted = requests.post(f"{base}/requests.{fmt}", data=heating(api_key), timeout=10)
    assert posted.status_code == 201, posted.text
    made = (
        posted.json()[0]
        if fmt == "json"
        else _one(xmltodict.parse(posted.content)["service_requests"]["request"])
    )
    rid = made["service_request_id"]

    got = client.get_service_request(rid)
    got = _one(got)
    assert got["service_request_id"] == rid and got["status"] == "open"
    assert got["service_code"] == HEATING
    assert got["expected_datetime"] == "2026-10-13T10:00:00+08:00"
    listed = client.get_service_requests(service_request_id=rid)
    assert _one(listed)["service_request_id"] == rid
    open_ones = client.get_service_requests(
        start_date="2026-10-01T00:00:00+08:00", end_date="2026-10-31T00:00:00+08:00", status="open"
    )
    assert _one(open_ones)["description"] == "家里暖气不热，室温只有 14 度。"

    with pytest.raises(requests.HTTPError) as bad_range:
        client.get_service_requests(
            start_date="2026-01-01T00:00:00Z", end_date="2026-10-01T00:00:00Z"
        )
    assert bad_range.value.response is not None
    assert bad_range.value.response.status_code == 400
    with pytest.raises(requests.HTTPError) as unknown:
        client.get_service_request("999999")
    assert unknown.value.response is not None and unknown.value.response.status_code == 404


def test_concurrent_open311_retries_make_one_request(live: str, db: Database, api_key: str) -> None:
    url = f"{live}/open311/v2/requests.json"
    fields = heating(api_key, description="并发重试：同一条诉求")
    start = threading.Barrier(8)

    def submit(_: int) -> tuple[int, str]:
        with httpx.Client(trust_env=False, timeout=30) as http:
            start.wait()
            resp = http.post(url, data=fields)
            return resp.status_code, resp.json()[0]["service_request_id"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(8)))
    assert {rid for _, rid in results} == {results[0][1]}
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
    assert case_count(db) == 1


def test_concurrent_native_retries_with_one_idempotency_key(live: str, db: Database) -> None:
    with httpx.Client(base_url=live, trust_env=False, timeout=30) as http:
        token = http.post(
            "/api/v1/auth/token", data={"username": "agent", "password": "jiesu-demo"}
        ).json()["access_token"]
    body = {
        "text": "东华门街道幸福里小区夜间施工噪音扰民",
        "request_type": "complaint",
        "category": "100101",
        "street": "110101001",
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "call-2026-10-12-0001"}
    start = threading.Barrier(8)

    def submit(_: int) -> tuple[int, int]:
        with httpx.Client(base_url=live, trust_env=False, timeout=30) as http:
            start.wait()
            resp = http.post("/api/v1/cases", json=body, headers=headers)
            return resp.status_code, resp.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(8)))
    assert {code for code, _ in results} == {201}
    assert len({case_id for _, case_id in results}) == 1
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(CaseEvent)).scalar_one() == 1
