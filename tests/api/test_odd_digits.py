"""Numbers written with odd digits never answer 5xx (issue 16 point 8).

`"²".isdigit()` is True and `int("²")` raises, so a route that checked one and then called the
other answered 500. Every route is walked: the API from its OpenAPI document, the pages from
app.routes, each path parameter and each numeric query or form field given each value below,
as a role that reaches the route.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from tests.api.pages_helpers import login
from tests.conftest import Database
from tests.helpers import STREET, auth, register

# A superscript and a circled digit pass isdigit() and fail int(); full-width and Arabic-Indic
# digits are decimal (int() reads them); the last one is wider than any INTEGER column.
ODD = ("²", "①", "１２", "٣", "99999999999999999999")

# Numbers the handlers read from the query or the form themselves (FastAPI declares the rest).
NUMERIC_FIELDS = (
    "case",
    "case_id",
    "page",
    "page_size",
    "service_request_id",
    "rule_id",
    "min_cases",
    "contact_value",
    "reply_value",
    "callback_value",
    "code",
    "category_prefix",
    "parent_code",
    "version",
    "article_id",
    "days",
    "into",
    "due_hours",
    "phone4",
)

# Sane values for the parameters not being tried, so a request gets as far as the odd one.
SANE = {
    "month": "2026-10",
    "fmt": "json",
    "action": "dispatch",
    "list_": "users",
    "case": "1",
    "phone4": "5678",  # the tracker reads the case only with four digits of the phone
}

# The pages' roles by address: each page is walked logged in as one that may see it.
PAGE_ROLES = (
    ("/admin", "admin"),
    ("/dispatcher", "dispatcher"),
    ("/unit", f"unit-{STREET}"),
    ("/callback", "callback"),
    ("/cockpit", "leader"),
    ("/case/", "dispatcher"),
    ("/citizen", None),
    ("/login", None),
    ("/logout", None),
    ("/lang", None),
)


def _fill(path: str, names: list[str], odd: str | None, target: str | None) -> str:
    for name in names:
        value = odd if name == target else SANE.get(name, "1")
        path = path.replace("{" + name + "}", quote(value or "", safe=""))
    return path


def _server_errors(resp: Any, method: str, url: str, bad: list[str]) -> None:
    if resp.status_code >= 500:
        bad.append(f"{method} {url} -> {resp.status_code}")


def _numeric(param: dict[str, Any]) -> bool:
    schema = param.get("schema", {})
    types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    return "integer" in types or param["name"] in NUMERIC_FIELDS


def _walk_api(client: TestClient, headers: dict[str, str], bad: list[str]) -> int:
    doc = client.get("/api/v1/openapi.json").json()
    sent = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if path == "/api/v1/auth/revoke":
                continue  # would end the walker's own token
            params = op.get("parameters", [])
            in_path = [p["name"] for p in params if p["in"] == "path"]
            declared = {p["name"] for p in params if p["in"] == "query" and _numeric(p)}
            for odd in ODD:
                tries: list[tuple[str, dict[str, str]]] = [
                    (_fill(path, in_path, odd, name), {}) for name in in_path
                ]
                # Declared query numbers one at a time; undeclared ones (read by the handler
                # from the raw query) all together.
                base = _fill(path, in_path, None, None)
                tries += [(base, {name: odd}) for name in declared]
                tries.append((base, {n: odd for n in NUMERIC_FIELDS if n not in declared}))
                for url, query in tries:
                    if method in ("get", "delete"):
                        resp = client.request(method, url, params=query, headers=headers)
                    else:
                        resp = client.request(method, url, data=query, headers=headers)
                    sent += 1
                    _server_errors(resp, method.upper(), f"{url}?{query}", bad)
    return sent


def _page_role(path: str) -> str | None:
    for prefix, role in PAGE_ROLES:
        if path.startswith(prefix):
            return role
    return "agent"


def _walk_pages(client: TestClient, bad: list[str]) -> int:
    sessions: dict[str | None, tuple[TestClient, str]] = {}
    sent = 0
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.route
        if not isinstance(route, APIRoute) or context.path.startswith(("/api/", "/open311/")):
            continue
        if context.path in ("/logout", "/login"):
            continue  # would end the walking session
        role = _page_role(context.path)
        if role not in sessions:
            browser = TestClient(client.app, raise_server_exceptions=False)
            sessions[role] = (browser, login(browser, role) if role else "")
        browser, token = sessions[role]
        in_path = [p.name for p in route.dependant.path_params]
        declared = {
            p.alias
            for p in route.dependant.query_params
            if p.alias in NUMERIC_FIELDS or "int" in str(p.field_info.annotation)
        }
        for method in sorted(context.methods or ()):
            for odd in ODD:
                tries = [(_fill(context.path, in_path, odd, n), {}) for n in in_path]
                base = _fill(context.path, in_path, None, None)
                sane = {n: SANE[n] for n in declared if n in SANE}
                tries += [(base, {**sane, name: odd}) for name in declared]
                tries.append((base, {n: odd for n in NUMERIC_FIELDS}))
                for url, fields in tries:
                    if method == "GET":
                        resp = browser.get(url, params=fields, follow_redirects=False)
                    else:
                        data = {"csrf_token": token, **fields}
                        resp = browser.post(url, data=data, follow_redirects=False)
                    sent += 1
                    _server_errors(resp, method, f"{url}?{fields}", bad)
    return sent


def test_no_route_answers_5xx_to_odd_digits(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    register(db, clock, street=STREET)
    bad: list[str] = []
    sent = _walk_api(client, auth(client, "admin"), bad)
    sent += _walk_pages(client, bad)
    assert sent > 800  # the whole surface was walked
    assert not bad, "\n".join(bad)


def test_open311_reads_odd_digits_as_a_client_would_expect(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock, street=STREET)
    # Not a number: no such request, the spec's 404 (it was a 500).
    assert client.get("/open311/v2/requests/².json").status_code == 404
    for query in ({"service_request_id": "²"}, {"page": "²"}, {"page_size": "①"}):
        resp = client.get("/open311/v2/requests.json", params=query)
        assert 400 <= resp.status_code < 500, (query, resp.status_code)
    # Full-width digits are the same number as ASCII ones.
    wide = "".join(chr(ord("０") + int(d)) for d in str(case.id))
    resp = client.get(f"/open311/v2/requests/{wide}.json")
    assert resp.status_code == 200
    assert resp.json()[0]["service_request_id"] == str(case.id)


def test_an_export_of_an_unknown_queue_is_the_default_one(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    # The queue's name went into the Content-Disposition header as typed: `①` cannot be
    # encoded there and answered 500. Unknown names read as the default, as the consoles do.
    for role, url, param, default in (
        ("dispatcher", "/dispatcher/export", "queue", "dispatch"),
        (f"unit-{STREET}", "/unit/export", "box", "open"),
    ):
        login(client, role)
        resp = client.get(url, params={param: "①"})
        assert resp.status_code == 200, (url, resp.status_code)
        assert 'filename="' in resp.headers["content-disposition"]
        assert default in resp.headers["content-disposition"]
        client.cookies.clear()
