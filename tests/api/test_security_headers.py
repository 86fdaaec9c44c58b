"""Security headers set by the plain-ASGI middlewares (jiesu.auth.http): the API's on every
/api/ answer, errors included, and the consoles' on pages, each added unless already set."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from jiesu.web.setup import STATIC
from tests.api.pages_helpers import login
from tests.conftest import Database
from tests.helpers import auth, register

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def test_errors_carry_the_api_headers_too(client: TestClient) -> None:
    anonymous = client.get("/api/v1/cases")
    assert anonymous.status_code == 401
    assert anonymous.headers["Content-Security-Policy"] == API_CSP
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    bad = client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.headers["Cache-Control"] == "no-store"
    missing = client.get("/api/v1/cases/999999", headers=auth(client, "agent"))
    assert missing.status_code == 404
    assert missing.headers["Referrer-Policy"] == "no-referrer"
    assert missing.headers["Cache-Control"] == "no-store"
    # Each header once, however many middlewares saw the answer.
    names = [k.lower() for k, _ in missing.headers.multi_items()]
    assert len(names) == len(set(names))


def test_swagger_page_works_offline(client: TestClient) -> None:
    # A city network without internet access: the page must load everything from us.
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and docs.headers["X-Content-Type-Options"] == "nosniff"
    assert "http://" not in docs.text and "https://" not in docs.text and "//" not in docs.text
    csp = docs.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "http" not in csp and "*" not in csp and "unsafe" not in csp
    names = [k.lower() for k, _ in docs.headers.multi_items()]
    assert len(names) == len(set(names))  # the page's own CSP, not the API's as well
    files = re.findall(r'(?:src|href)="(/[^"]+)"', docs.text)
    assert any(f.endswith("swagger-ui-bundle.js") for f in files)
    assert any(f.endswith("swagger-ui.css") for f in files)
    if not (STATIC / "vendor" / "swagger-ui-bundle.js").exists():
        pytest.skip("vendor files absent: run `make vendor` (CI does, through make test)")
    for path in files:
        got = client.get(path)
        assert got.status_code == 200 and got.content, path
    assert "SwaggerUIBundle" in client.get("/static/vendor/swagger-ui-bundle.js").text


def test_pages_get_the_consoles_headers_not_the_apis(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Frame-Options"] == "DENY"
    names = [k.lower() for k, _ in page.headers.multi_items()]
    assert len(names) == len(set(names))


def test_console_pages_and_exports_are_never_cached(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    # An agent's and a dispatcher's pages show the citizen's full phone; a browser's back
    # button or a shared proxy must not hand it to the next person at the desk.
    case = register(db, clock)
    for username, paths in {
        "agent": ["/agent"],
        "leader": [f"/cockpit/case/{case.id}"],
        "dispatcher": ["/dispatcher", "/dispatcher/export"],
        "admin": ["/admin", "/admin/export"],
    }.items():
        client.cookies.clear()
        login(client, username)
        for path in paths:
            page = client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            assert page.headers["Cache-Control"] == "no-store", path
    # The login form and the citizen's tracker carry no-store too; static files stay cacheable.
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/citizen").headers["Cache-Control"] == "no-store"
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")
