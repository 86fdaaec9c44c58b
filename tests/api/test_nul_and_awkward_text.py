"""Awkward characters: stored exactly, or refused with a 422, never a 500. A registration's
text is written through JSON on PostgreSQL (the registrar's groups); a NUL character, which
PostgreSQL's text cannot hold, is refused by name in every JSON body and, anywhere else it
reaches the database (a query parameter, a form field), by the database error's handler."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.cases.models import Case
from tests.conftest import Database
from tests.helpers import STREET, auth

TEXTS = [
    'quotes " and \\ backslash \\u0000 escaped-looking',
    "tab\tnewline\ncarriage\r end",
    "line\u2028separator\u2029 and 😀 and 𠀀 and \ufeff",
    '\\"}]},{"id":1} json-looking',
]


@pytest.mark.parametrize("text", TEXTS)
def test_awkward_text_is_stored_as_sent(client: TestClient, db: Database, text: str) -> None:
    body = {
        "text": text,
        "request_type": "complaint",
        "street": STREET,
        "address": text[:40],
        "citizen": {"name": text[:20], "phone": "13812345678"},
    }
    resp = client.post("/api/v1/cases", json=body, headers=auth(client, "agent"))
    assert resp.status_code == 201, resp.text
    case_id = resp.json()["id"]
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(Case.text, Case.address, Case.citizen_name).where(Case.id == case_id)
        ).one()
    assert tuple(row) == (text.strip(), text[:40].strip(), text[:20].strip())


@pytest.mark.parametrize("field", ["text", "address", "name"])
def test_a_nul_character_is_refused_by_name(client: TestClient, db: Database, field: str) -> None:
    body: dict[str, object] = {
        "text": "路灯坏了",
        "request_type": "complaint",
        "street": STREET,
        "citizen": {"name": "王芳", "phone": "13812345678"},
    }
    if field == "name":
        body["citizen"] = {"name": "王\x00芳", "phone": "13812345678"}
    else:
        body[field] = "路灯\x00坏了"
    resp = client.post("/api/v1/cases", json=body, headers=auth(client, "agent"))
    assert resp.status_code == 422, resp.text
    assert field in resp.text
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases?unit=a%00b",
        "/api/v1/cases?status=a%00b",
        "/api/v1/cases?phone=1%00",
        "/open311/v2/requests.json?service_code=a%00",
    ],
)
def test_a_nul_in_a_query_is_never_a_server_error(
    client: TestClient, db: Database, url: str
) -> None:
    resp = client.get(url, headers=auth(client, "admin"))
    assert resp.status_code < 500, resp.text
    reaches_the_database = "unit=" in url or "service_code=" in url
    if db.engine.dialect.name == "postgresql" and reaches_the_database:
        assert resp.status_code == 422 and "NUL" in resp.text, resp.text


def test_a_nul_in_a_login_is_never_a_server_error(client: TestClient, db: Database) -> None:
    resp = client.post("/api/v1/auth/token", data={"username": "ag\x00ent", "password": "x"})
    assert resp.status_code in (401, 422), resp.text
    page = client.post("/login", data={"username": "ag\x00ent", "password": "x"})
    assert page.status_code < 500
