"""The tracker's guess limit holds for the whole server, not per worker."""

from __future__ import annotations

import re

import httpx
import pytest

from jiesu.clock import FixedClock
from jiesu.web.session import ANON_CSRF_COOKIE
from tests.conftest import Database
from tests.helpers import register
from tests.serverproc import Server


def test_tracker_limit_is_shared_by_two_workers(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = register(db, clock)  # the citizen's phone ends in 5678
    # One window for the whole test, so a window's end cannot fall inside it.
    monkeypatch.setenv("JIESU_TRACK_WINDOW_SECONDS", str(10**9))
    server = Server(db.url, workers=2)
    server.start()
    try:
        page = httpx.get(f"{server.base}/citizen", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        cookies = {ANON_CSRF_COOKIE: page.cookies[ANON_CSRF_COOKIE]}

        def guess(digits: str) -> int:
            # A new connection each time, so the guesses land on both workers.
            data = {"csrf_token": token.group(1), "case": str(case.id), "phone4": digits}
            resp = httpx.post(
                f"{server.base}/citizen/track", data=data, cookies=cookies, timeout=30
            )
            return resp.status_code

        answers = [guess(f"{n:04d}") for n in range(12)]
        assert answers == [404] * 5 + [429] * 7  # the stated 5, not 5 per worker
        assert guess("5678") == 429
    finally:
        server.kill()
