"""The e2e suite: the real app under uvicorn on a demo city, driven by Debian's Chromium.

Playwright's own browser download is not used (nor reachable): the suite launches
/usr/bin/chromium and is skipped when it is missing, unless JIESU_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("JIESU_REQUIRE_BROWSER") == "1"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
# A test run leaves the tracked README screenshots alone; JIESU_UPDATE_SCREENSHOTS=1 refreshes them.
SCREENSHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("JIESU_UPDATE_SCREENSHOTS") == "1"
    else REPO / "test-artifacts" / "screenshots"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jiesu.demo.build import build_demo

    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'demo.db'}"
    # A fixed "now" keeps the demo city the same from run to run (seeded generator).
    now = datetime.now(UTC).replace(microsecond=0)
    build_demo(url, cases=200, days=30, seed=1, now=now)
    # The cockpit reads the analytics lake: export the demo city to it, as a refresh would.
    from zoneinfo import ZoneInfo

    from jiesu.analytics.export import refresh
    from jiesu.db import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        refresh(session, folder / "lake", ZoneInfo("Asia/Shanghai"), now)
    engine.dispose()
    # The cockpit's governance panels read summaries: computed as `jiesu governance summarise`
    # does after a refresh (this month and the one before).
    from jiesu.governance.summary import default_months, summarise, write_summary

    for month in default_months(now, ZoneInfo("Asia/Shanghai")):
        write_summary(
            folder / "lake", summarise(folder / "lake", month, ZoneInfo("Asia/Shanghai"), now)
        )
    port = _free_port()
    env = {
        **os.environ,
        "JIESU_DATABASE_URL": url,
        "JIESU_DATA_DIR": str(folder / "data"),
        "JIESU_LAKE_DIR": str(folder / "lake"),
        "JIESU_MODEL_DIR": str(folder / "model"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "jiesu.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the app did not start within 30 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if REQUIRE:
            pytest.fail("Chromium is required: apt-get install -y chromium")
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()
