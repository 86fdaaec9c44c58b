"""One login throttle for every way in, lockout under a concurrent burst, the public pages'
limits (counted in the database, keyed by the normalised case number), the tracker's form."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiesu.app import create_app
from jiesu.auth import limits
from jiesu.auth.models import LoginAttempt
from jiesu.cases.models import Case
from jiesu.clock import FixedClock
from jiesu.errors import DomainError
from jiesu.settings import Settings
from jiesu.web.models import RateCounter
from tests.api.pages_helpers import form_token, track
from tests.conftest import T0, Database
from tests.helpers import register

STREET = "110101002"


@pytest.fixture
def strict(db: Database, clock: FixedClock) -> Iterator[TestClient]:
    settings = Settings(database_url=db.url, login_max_failures=3, login_max_failures_per_client=50)
    app = create_app(settings, clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.engine.dispose()


def web_login(client: TestClient, username: str, password: str) -> Any:
    token = form_token(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False)


def test_the_web_login_locks_like_the_token_endpoint(strict: TestClient) -> None:
    # Two wrong passwords on the page and one on the API: one count, so the account is locked
    # on both ways in, and the right password is refused on the page with a clear message.
    assert [web_login(strict, "agent", "wrong-password").status_code for _ in range(2)] == [
        401,
        401,
    ]
    token = strict.post("/api/v1/auth/token", data={"username": "agent", "password": "nope-nope"})
    assert token.status_code == 401
    locked = web_login(strict, "agent", "jiesu-demo")
    assert locked.status_code == 429 and "jiesu_session" not in locked.headers.get("set-cookie", "")
    assert "登录失败次数过多" in locked.text and "15 分钟后再试" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    api = strict.post("/api/v1/auth/token", data={"username": "agent", "password": "jiesu-demo"})
    assert api.status_code == 429
    strict.cookies.set("jiesu_lang", "en")
    assert "Too many failed logins" in web_login(strict, "agent", "jiesu-demo").text
    assert web_login(strict, "dispatcher", "jiesu-demo").status_code == 303


def test_a_concurrent_burst_checks_at_most_the_limit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20 wrong guesses at once, each on its own connection: only 5 may reach the password.
    checked = []
    real = limits.authenticate

    def counting(*args: Any) -> Any:
        checked.append(1)
        return real(*args)

    monkeypatch.setattr(limits, "authenticate", counting)
    policy = limits.Limits(max_failures=5, max_failures_per_client=100)
    start = threading.Barrier(20)
    answers: list[str] = []

    def guess(n: int) -> None:
        with db.uow() as uow:
            start.wait()
            try:
                limits.check_login(
                    uow.session, "agent", f"guess-{n}", client="10.0.0.9", now=T0, limits=policy
                )
            except DomainError as exc:
                answers.append(exc.code)
            uow.commit()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 5
    assert sorted(answers) == ["too_many_attempts"] * 15 + ["unauthorized"] * 5
    with db.factory() as s:
        failed = s.scalar(select(func.count()).where(LoginAttempt.outcome == "failed"))
    assert failed == 5


def _scripts(number: int) -> list[str]:
    """The same case number as people and scripts may type it."""
    text = str(number)
    return [
        "0" + text,
        "".join(chr(0xFF10 + int(d)) for d in text),  # fullwidth, from a Chinese keyboard
        "".join(chr(0x0660 + int(d)) for d in text),  # Arabic-Indic
        " 00" + text + " ",
        text,
    ]


def test_tracker_counts_one_case_however_its_number_is_written(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)  # the citizen's phone ends in 5678
    assert client.app.state.web_settings.track_limit_per_case == 5  # type: ignore[attr-defined]
    assert [track(client, n, "0000").status_code for n in _scripts(case.id)] == [404] * 5
    # Every spelling was a guess at the same case: even the right digits now wait.
    assert track(client, case.id, "5678").status_code == 429
    assert (
        track(client, "".join(chr(0xFF10 + int(d)) for d in str(case.id)), "5678").status_code
        == 429
    )
    # Digits that are not decimal digits are a wrong guess, never a server error.
    clock.advance(timedelta(minutes=11))
    assert track(client, "²", "5678").status_code == 404
    assert track(client, case.id, "5²78").status_code == 404
    opened = track(client, "0" + str(case.id), "５６７８")
    assert opened.status_code == 200 and 'id="timeline"' in opened.text


def test_right_guesses_do_not_count(client: TestClient, db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    assert [track(client, case.id, "5678").status_code for _ in range(8)] == [200] * 8


def test_the_digits_never_go_in_the_address(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)
    # An old link with the digits in it opens only the form, with the case number filled in.
    page = client.get(f"/citizen/track?case={case.id}&phone4=5678")
    assert page.status_code == 200 and 'id="timeline"' not in page.text
    assert f'id="t-case" name="case" inputmode="numeric" required value="{case.id}"' in page.text
    assert '<form method="post" action="/citizen/track">' in page.text
    # The form posts the digits with the anonymous CSRF token; without it nothing is shown.
    forged = client.post("/citizen/track", data={"case": str(case.id), "phone4": "5678"})
    assert forged.status_code == 403 and 'id="timeline"' not in forged.text
    assert 'id="timeline"' in track(client, case.id, "5678").text


def test_submit_is_limited_per_address(client: TestClient, db: Database) -> None:
    ws = client.app.state.web_settings  # type: ignore[attr-defined]
    ws.submit_limit_per_ip = 3
    token = form_token(client.get("/citizen").text)

    def submit(**fields: str) -> Any:
        data = {"csrf_token": token, "text": "小区垃圾没人清运", "street": STREET, **fields}
        return client.post("/citizen/submit", data=data, follow_redirects=False)

    assert submit(phone="12").status_code == 422  # refused forms do not count
    assert [submit(phone="13900001234").status_code for _ in range(3)] == [303] * 3
    refused = submit(phone="13900001234", text="第四件诉求")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "提交的诉求过多" in refused.text and "第四件诉求" in refused.text  # nothing retyped
    with db.factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 3


def test_counters_of_finished_windows_are_deleted(db: Database) -> None:
    from jiesu.web.ratelimit import Limit, take

    limit = Limit("track-ip", 5, timedelta(minutes=10))
    with db.uow() as uow:
        for n in range(30):
            take(uow.session, limit, f"10.0.0.{n}", T0)
        uow.commit()
    with db.uow() as uow:
        take(uow.session, limit, "10.0.1.1", T0 + timedelta(minutes=10))
        uow.commit()
    with db.factory() as s:
        assert s.scalars(select(RateCounter.key)).all() == ["10.0.1.1"]
