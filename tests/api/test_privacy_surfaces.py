"""Issue 16: personal data on every read surface. The public Open311 feed shows no phone, ID,
e-mail, name, dwelling or exact point; a read_private key sees the address and point but still
no personal data; units, leaders and analysts read text, notes, replies and events redacted,
while agents, dispatchers and callback agents see everything. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from jiesu.open311.keys import create_key
from tests.api.pages_helpers import login
from tests.conftest import T0, Database
from tests.helpers import DISPATCHER, STREET, auth, do, handler, register

NAME = "钱多多"
PHONE = "13812345678"
# Each format the adversarial test of issue 16 got through the old redaction.
PLANTED = {
    "spaced mobile": "138 1234 5678",
    "dashed mobile": "139-8765-4321",
    "bracketed mobile": "(137)11112222",
    "full-width mobile": "１３６００００１１１１",
    "spaced landline": "010 6512 3456",
    "ID number": "11010519491231002X",
    "spelled e-mail": "wang at qq dot com",
    "bracket e-mail": "wang[at]163.com",
    "full-width e-mail": "wang＠qq．com",
}
# Digit runs the check looks for (separators and obfuscation stripped don't matter here: each
# of these is a piece no redacted text may still contain).
PIECES = ["1234 5678", "8765-4321", "11112222", "００００１１１１", "6512 3456", "19491231002X"]
PIECES += ["wang", NAME, PHONE]
DWELLING = "3号楼2单元501室"
TEXT = "我是钱多多，家住幸福小区3号楼2单元501室，楼道灯坏了。" + "，".join(PLANTED.values())
ADDRESS = "东城区幸福小区3号楼2单元501室 电话 139-8765-4321"
LAT, LON = 39.916345, 116.397228


@pytest.fixture
def cleanup_clients(db: Database) -> Iterator[None]:
    yield
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM open311_client"))


def planted_case(db: Database, clock: FixedClock) -> int:
    case = register(
        db,
        clock,
        text=TEXT,
        address=ADDRESS,
        lat=LAT,
        lon=LON,
        citizen={"name": NAME, "phone": PHONE},
    )
    return case.id


def leaks(body: str) -> list[str]:
    return [p for p in PIECES if p in body]


def test_public_feed_shows_no_personal_data_dwelling_or_exact_point(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case_id = planted_case(db, clock)
    resp = client.get("/open311/v2/requests.json?page_size=1000")
    assert resp.status_code == 200
    [row] = [r for r in resp.json() if r["service_request_id"] == str(case_id)]
    assert leaks(resp.text) == []
    assert DWELLING not in resp.text and "501" not in resp.text
    assert row["address"] == "东城区幸福小区"
    assert "楼道灯坏了" in row["description"]  # the request itself is still public
    assert row["lat"] == 39.916 and row["long"] == 116.397
    xml = client.get(f"/open311/v2/requests/{case_id}.xml?extensions=true").text
    assert leaks(xml) == [] and DWELLING not in xml


def test_a_read_private_key_sees_address_and_point_but_no_personal_data(
    client: TestClient, db: Database, clock: FixedClock, cleanup_clients: None
) -> None:
    case_id = planted_case(db, clock)
    with db.uow() as uow:
        private = create_key(uow.session, "partner-map", T0, ["read_private"])
        plain = create_key(uow.session, "kiosk", T0)
        uow.commit()
    url = f"/open311/v2/requests/{case_id}.json"
    [row] = client.get(url, params={"api_key": private}).json()
    assert row["address"].startswith("东城区幸福小区3号楼2单元501室")
    assert DWELLING in row["description"]
    assert row["lat"] == LAT and row["long"] == LON
    assert leaks(str(row)) == []
    # A key without the scope reads the public feed; a wrong key is refused, not downgraded.
    [public] = client.get(url, params={"api_key": plain}).json()
    assert public["address"] == "东城区幸福小区" and public["lat"] == 39.916
    assert client.get(url, params={"api_key": "o311_nonsense"}).status_code == 403


def worked_case(db: Database, clock: FixedClock) -> int:
    """A case a unit has handled, with the citizen's number and name in the note and reply."""
    case_id = planted_case(db, clock)
    unit = handler(STREET)
    do(db, clock, DISPATCHER, case_id, "dispatch", lead_unit=STREET)
    do(db, clock, unit, case_id, "acknowledge")
    do(db, clock, unit, case_id, "contact", note=f"已电话联系{NAME}（138 1234 5678）")
    do(
        db,
        clock,
        unit,
        case_id,
        "reply",
        after=timedelta(hours=5),
        text=f"已修复，回复{NAME}，身份证11010519491231002X已核对",
    )
    return case_id


@pytest.mark.parametrize("user", ["leader", "analyst", f"unit-{STREET}"])
def test_masked_roles_read_no_personal_data_in_text_notes_replies_or_events(
    client: TestClient, db: Database, clock: FixedClock, user: str
) -> None:
    case_id = worked_case(db, clock)
    headers = auth(client, user)
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    events = client.get(f"/api/v1/cases/{case_id}/events", headers=headers)
    listed = client.get("/api/v1/cases", headers=headers)
    for resp in (case, events, listed):
        assert resp.status_code == 200, resp.text
        assert leaks(resp.text) == [], resp.request.url
    assert "楼道灯坏了" in case.json()["text"] and "已修复" in case.json()["reply_text"]
    # A unit still needs the building and room to find the place.
    assert DWELLING in case.json()["address"]
    notes = [e["payload"] for e in events.json() if e["action"] == "contact"]
    assert notes and "已电话联系" in str(notes)


@pytest.mark.parametrize(
    ("user", "page"),
    [
        ("leader", "/cockpit/case/{id}"),
        ("analyst", "/cockpit/case/{id}"),
        (f"unit-{STREET}", "/unit/case/{id}"),
        (f"unit-{STREET}", "/unit?box=done"),
    ],
)
def test_masked_roles_pages_show_no_personal_data(
    client: TestClient, db: Database, clock: FixedClock, user: str, page: str
) -> None:
    case_id = worked_case(db, clock)
    login(client, user)
    resp = client.get(page.format(id=case_id))
    assert resp.status_code == 200
    assert "楼道灯坏了" in resp.text
    assert leaks(resp.text) == []


@pytest.mark.parametrize("user", ["dispatcher", "agent"])
def test_unmasked_roles_still_see_everything(
    client: TestClient, db: Database, clock: FixedClock, user: str
) -> None:
    case_id = worked_case(db, clock)
    headers = auth(client, user)
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()
    assert case["text"] == TEXT and case["citizen"]["phone"] == PHONE
    events = client.get(f"/api/v1/cases/{case_id}/events", headers=headers).text
    assert NAME in events and "138 1234 5678" in events
