"""Driving the server-rendered pages like a browser: log in, read the CSRF token, post forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def form_token(html: str) -> str:
    m = CSRF.search(html)
    assert m, "the page has no CSRF field"
    return m.group(1)


def login(client: TestClient, username: str, password: str = "jiesu-demo") -> str:
    """Logs in and returns the session's CSRF token."""
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    home = client.get("/", follow_redirects=True)
    m = META.search(home.text)
    assert m and m.group(1)
    return m.group(1)


def post(client: TestClient, path: str, token: str, **data: object) -> object:
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


MSG = re.compile(r'<p class="msg (ok|error)" role="(?:status|alert)">(.*?)</p>', re.S)


def shown(client: TestClient, resp: object) -> dict[str, str]:
    """Follows a POST's redirect like a browser and returns the one-time messages shown."""
    assert resp.status_code == 303, resp.text  # type: ignore[attr-defined]
    location = resp.headers["location"]  # type: ignore[attr-defined]
    assert "ok=" not in location and "error=" not in location  # never in the address
    page = client.get(location)
    return {kind: text for kind, text in MSG.findall(page.text)}


def track(client: TestClient, case: object, phone4: str) -> Response:
    """The citizen tracker's form, posted like a browser (the digits never go in the address)."""
    token = form_token(client.get(f"/citizen/track?case={case}").text)
    return client.post(
        "/citizen/track", data={"csrf_token": token, "case": str(case), "phone4": phone4}
    )
