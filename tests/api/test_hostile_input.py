"""Hostile input (issue 8 point 6): every malicious body is refused with a clear 4xx and
nothing is written; text that looks like SQL or script is stored verbatim and shown escaped."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.cases.models import Case, CaseEvent
from jiesu.clock import FixedClock
from tests.api.pages_helpers import form_token, login, track
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, auth, do

REGISTER: dict[str, Any] = {
    "text": "小区门口夜间施工噪音扰民，希望处理。",
    "request_type": "complaint",
    "street": STREET,
    "address": "东华门街道幸福里3号楼",
    "citizen": {"name": "王芳", "phone": "13812345678"},
}
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<service_request><description>&lol9;</description></service_request>"
)
DEEP_JSON = b"[" * 10_000 + b"]" * 10_000
# Only the path parameters the app has; any id works, the body is refused before it matters.
PATH_PARAM = re.compile(r"\{[^}]+\}")


def counts(db: Database) -> tuple[int, int]:
    with db.engine.connect() as conn:
        cases = conn.scalar(sa.select(sa.func.count()).select_from(Case))
        events = conn.scalar(sa.select(sa.func.count()).select_from(CaseEvent))
    return int(cases or 0), int(events or 0)


def write_routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").json()
    return [
        (method, PATH_PARAM.sub("1", path))
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("post", "put", "patch")
    ]


@pytest.fixture
def no_xml_parsing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any XML parse during the test fails it: the only XML jiesu handles is what it writes."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("an XML body was parsed")

    monkeypatch.setattr(ET, "XMLParser", refuse)
    monkeypatch.setattr(ET, "fromstring", refuse)
    monkeypatch.setattr(ET, "parse", refuse)
    yield


def test_oversized_bodies_are_413_and_write_nothing(client: TestClient, db: Database) -> None:
    agent = auth(client, "agent")
    big = dict(REGISTER, text="噪" * 400_000)  # 1.2 MB of UTF-8, over the 1 MB limit
    resp = client.post("/api/v1/cases", json=big, headers=agent)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts as it reads
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 32_768
        yield b'"}'

    resp = client.post(
        "/api/v1/cases", content=chunks(), headers=agent | {"Content-Type": "application/json"}
    )
    assert resp.status_code == 413
    resp = client.post("/open311/v2/requests.json", data={"description": "x" * 1_100_000})
    assert resp.status_code == 413
    assert counts(db) == (0, 0)


def test_deep_json_is_refused_on_every_write_route(client: TestClient, db: Database) -> None:
    admin = auth(client, "admin")
    routes = write_routes(client)
    assert len(routes) > 20  # the whole API surface, not a sample
    for method, path in routes:
        resp = client.request(
            method, path, content=DEEP_JSON, headers=admin | {"Content-Type": "application/json"}
        )
        assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.text[:200])
        assert "error" in resp.json() or isinstance(resp.json(), list), path
    assert counts(db) == (0, 0)


def test_invalid_utf8_is_400(client: TestClient, db: Database) -> None:
    agent = auth(client, "agent")
    body = json.dumps(REGISTER, ensure_ascii=False).encode().replace("王芳".encode(), b"\xff\xfe")
    resp = client.post(
        "/api/v1/cases", content=body, headers=agent | {"Content-Type": "application/json"}
    )
    assert resp.status_code == 400, resp.text
    assert "parsing the body" in resp.json()["error"]["message"]
    # A form with broken percent-encoded UTF-8 on the login route is a clear 4xx as well.
    resp = client.post(
        "/api/v1/auth/token",
        content=b"username=%FF%FE&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= resp.status_code < 500
    assert counts(db) == (0, 0)


def test_billion_laughs_is_never_parsed(
    client: TestClient, db: Database, no_xml_parsing: None
) -> None:
    admin = auth(client, "admin")
    for fmt in ("xml", "json"):
        resp = client.post(
            f"/open311/v2/requests.{fmt}",
            content=BILLION_LAUGHS,
            headers={"Content-Type": "text/xml"},
        )
        assert resp.status_code == 400, resp.text
    for method, path in write_routes(client):
        resp = client.request(
            method,
            path,
            content=BILLION_LAUGHS,
            headers=admin | {"Content-Type": "application/xml"},
        )
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
        assert b"lollol" not in resp.content, path  # no entity was expanded into an answer
    assert counts(db) == (0, 0)


HOSTILE_TEXT = "'; DROP TABLE case_record; -- <script>alert('x')</script> \" OR 1=1"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def test_sql_and_script_text_stored_verbatim_and_escaped(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    agent = auth(client, "agent")
    resp = client.post(
        "/api/v1/cases",
        json=dict(REGISTER, text=HOSTILE_TEXT, address=HOSTILE_TEXT[:60])
        | {"citizen": {"name": HOSTILE_NAME, "phone": "13812345678"}},
        headers=agent,
    )
    assert resp.status_code == 201, resp.text
    case_id = resp.json()["id"]
    got = client.get(f"/api/v1/cases/{case_id}", headers=agent)
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.json()["text"] == HOSTILE_TEXT  # data, byte for byte; the table is still there
    assert got.json()["citizen"]["name"] == HOSTILE_NAME
    with db.engine.connect() as conn:
        stored = conn.scalar(sa.select(Case.text).where(Case.id == case_id))
    assert stored == HOSTILE_TEXT

    do(db, clock, DISPATCHER, case_id, "dispatch", lead_unit=STREET)
    for user, page in ((f"unit-{STREET}", f"/unit/case/{case_id}"), ("agent", "/agent")):
        client.cookies.clear()
        login(client, user)
        text = client.get(page).text
        assert "<script>alert(" not in text and "<img src=x" not in text, page
        if user.startswith("unit"):
            assert html.escape(HOSTILE_TEXT, quote=False).split(" -- ")[1][:20] in text


PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.mark.parametrize(
    "filename", ["../../etc/passwd.png", "/tmp/jiesu-evil.png", "..\\..\\evil.png"]
)
def test_photo_name_cannot_escape_the_data_dir(
    client: TestClient, db: Database, tmp_path: Path, filename: str
) -> None:
    # The database sits in tmp_path; the tree watched here holds only the data dir.
    root = tmp_path / "root"
    data_dir = root / "a" / "b" / "data"
    client.app.state.web_settings.data_dir = data_dir  # type: ignore[attr-defined]
    before = set(root.rglob("*"))
    token = form_token(client.get("/citizen").text)
    resp = client.post(
        "/citizen/submit",
        data={"csrf_token": token, "text": "小区垃圾没人清运", "phone": "13900001234"},
        files={"photo": (filename, PNG, "image/png")},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    new = set(root.rglob("*")) - before
    written = [p for p in new if p.is_file()]
    assert len(written) == 1
    assert written[0].parent == data_dir / "photos"
    assert re.fullmatch(r"[0-9a-f]{32}\.png", written[0].name)
    assert not Path("/tmp/jiesu-evil.png").exists()


def test_ids_beyond_the_integer_column_are_404_or_422(client: TestClient) -> None:
    # PostgreSQL INTEGER ends at 2**31 - 1; a bigger id once reached the database as a 500.
    agent = auth(client, "agent")
    huge = 2**40
    for path in (f"/api/v1/cases/{huge}", f"/api/v1/knowledge/{huge}"):
        assert client.get(path, headers=agent).status_code in (404, 422), path
    resp = client.post(f"/api/v1/cases/{huge}/merge", json={"into": huge}, headers=agent)
    assert resp.status_code == 422
    assert client.get(f"/open311/v2/requests/{huge}.json").status_code == 404


def test_page_ids_beyond_the_integer_column(client: TestClient) -> None:
    huge = 2**40
    assert track(client, huge, "1234").status_code == 404
    login(client, f"unit-{STREET}")
    assert client.get(f"/unit/case/{huge}").status_code in (404, 422)
