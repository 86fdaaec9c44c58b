"""Open311 GeoReport v2 over HTTP: the spec's error contract, validation, privacy, status
mapping, XML escaping, api_keys (admin API and CLI). Both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.cases.models import Case, CaseEvent
from jiesu.clock import FixedClock
from jiesu.open311.keys import create_key, revoke_key
from tests.conftest import T0, Database
from tests.helpers import DISPATCHER, STREET, auth, do

HEATING = "170401"  # 室温不达标: prompt urgency, asks 室温 (number, required)
NOISE = "100101"  # 施工噪音: asks 时段 (single value list, required)
LAMP = "050403"  # 路灯不亮: one optional question
BASE = "/open311/v2"


@pytest.fixture
def cleanup_clients(db: Database) -> Iterator[None]:
    # open311_client is not among the rows conftest truncates on PostgreSQL.
    yield
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM open311_client"))


@pytest.fixture
def api_key(db: Database, cleanup_clients: None) -> str:
    with db.uow() as uow:
        key = create_key(uow.session, "test-app", T0)
        uow.commit()
    return key


def post(client: TestClient, fmt: str = "json", **fields: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data=fields)


def heating(api_key: str, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "api_key": api_key,
        "service_code": HEATING,
        "lat": "39.9163",
        "long": "116.3972",
        "description": "家里暖气不热，室温只有 14 度。",
        "attribute[room_temp]": "14",
    }
    fields.update(extra)
    return fields


def errors(resp: Any, fmt: str = "json") -> list[tuple[int, str]]:
    if fmt == "xml":
        root = SafeET.fromstring(resp.content)
        assert root.tag == "errors"
        return [
            (int(e.findtext("code") or 0), e.findtext("description") or "")
            for e in root.iter("error")
        ]
    return [(e["code"], e["description"]) for e in resp.json()]


def case_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one())


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_unknown_or_revoked_key_is_403_in_the_spec_error_shape(
    client: TestClient, db: Database, api_key: str, fmt: str
) -> None:
    resp = post(client, fmt, **{k: v for k, v in heating(api_key).items() if k != "api_key"})
    assert resp.status_code == 403
    assert errors(resp, fmt)[0][0] == 403
    assert "api_key" in errors(resp, fmt)[0][1]
    assert post(client, fmt, **heating("o311_not-a-key")).status_code == 403
    with db.uow() as uow:
        revoke_key(uow.session, "test-app", T0)
        uow.commit()
    resp = post(client, fmt, **heating(api_key))
    assert resp.status_code == 403 and "revoked" in errors(resp, fmt)[0][1]
    assert case_count(db) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_request_token_and_format_are_404(
    client: TestClient, api_key: str, fmt: str
) -> None:
    for path in (
        f"services/999999.{fmt}",
        f"services/17.{fmt}",  # a level-1 category is not a service
        f"requests/424242.{fmt}",
        f"requests/not-a-number.{fmt}",
        f"tokens/nope.{fmt}",
    ):
        resp = client.get(f"{BASE}/{path}")
        assert resp.status_code == 404, path
        assert errors(resp, fmt)[0][0] == 404
    resp = post(client, fmt, **heating(api_key, service_code="999999"))
    assert resp.status_code == 404 and "service_code" in errors(resp, fmt)[0][1]
    resp = client.get(f"{BASE}/services.csv")
    assert resp.status_code == 404 and "format" in errors(resp)[0][1]


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"lat": "", "long": ""}, "location"),
        ({"long": ""}, "lat and long"),
        ({"lat": "91"}, "lat"),
        ({"service_code": ""}, "service_code"),
        ({"attribute[room_temp]": "warm"}, "attribute[room_temp]"),
        ({"attribute[room_temp]": ""}, "attribute[room_temp]: required"),
        ({"attribute[heating_type]": "coal"}, "attribute[heating_type]"),
        ({"attribute[colour]": "red"}, "attribute[colour]"),
        ({"description": "冷" * 4001}, "description"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    client: TestClient, db: Database, api_key: str, change: dict[str, str], names: str
) -> None:
    resp = post(client, **heating(api_key, **change))
    assert resp.status_code == 400, resp.text
    assert names in errors(resp)[0][1]
    assert case_count(db) == 0


def test_malformed_bodies_are_400_never_500(client: TestClient, api_key: str) -> None:
    url = f"{BASE}/requests.json"
    form = "application/x-www-form-urlencoded"
    bad_utf8 = b"api_key=" + api_key.encode() + b"&service_code=050403&address_string=%FF%FE"
    for body, kind in (
        (bad_utf8, form),
        (b"x" * (70 * 1024), form),
        (b'{"service_code": "050403"}', "application/json"),
        (b"<request><service_code>050403</service_code></request>", "text/xml"),
    ):
        resp = client.post(url, content=body, headers={"Content-Type": kind})
        assert resp.status_code == 400, (kind, resp.text)
        assert errors(resp)[0][0] == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_date_range_and_status_are_400(client: TestClient, fmt: str) -> None:
    for query in (
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "start_date=2026-10-10T00:00:00Z&end_date=2026-10-01T00:00:00Z",
        "start_date=yesterday",
        "start_date=2026-10-01T00:00:00",
        "status=pending",
        "page_size=5000",
    ):
        resp = client.get(f"{BASE}/requests.{fmt}?{query}")
        assert resp.status_code == 400, query
        assert errors(resp, fmt)[0][0] == 400


def test_submit_then_read_back_with_time_limit_estimate_and_extensions(
    client: TestClient, api_key: str
) -> None:
    resp = post(client, **heating(api_key, **{"attribute[heating_type]": "central"}))
    assert resp.status_code == 201, resp.text
    [made] = resp.json()
    assert made["token"] and made["service_request_id"].isdigit()
    assert "2026-10-13 10:00" in made["service_notice"]
    rid = made["service_request_id"]

    [got] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert got["status"] == "open"
    assert got["service_code"] == HEATING and got["service_name"] == "室温不达标"
    assert got["requested_datetime"] == "2026-10-12T10:00:00+08:00"
    # 室温不达标 is a prompt (水电气热) item: 24 clock hours, estimated before dispatch.
    assert got["expected_datetime"] == "2026-10-13T10:00:00+08:00"
    # The public feed rounds the point to about 100 m (docs/open311.md).
    assert got["lat"] == pytest.approx(39.916) and got["long"] == pytest.approx(116.397)
    assert "extensions" not in got
    [ext] = client.get(f"{BASE}/requests/{rid}.json?extensions=true").json()
    assert ext["extensions"]["jiesu_status"] == "registered"
    assert ext["extensions"]["category_path"] == ["公用事业", "供热", "室温不达标"]
    assert ext["extensions"]["channel"] == "open311"
    assert ext["extensions"]["attributes"] == {"room_temp": 14.0, "heating_type": "central"}
    assert ext["extensions"]["district"] == "110101"  # the point lies in 东城区
    assert client.get(f"{BASE}/tokens/{made['token']}.json").json() == [
        {"service_request_id": rid, "token": made["token"]}
    ]


def test_status_is_open_or_closed_and_agency_is_the_lead_unit(
    client: TestClient, db: Database, clock: FixedClock, api_key: str
) -> None:
    first = post(client, **heating(api_key)).json()[0]["service_request_id"]
    second = post(client, **heating(api_key, description="楼上也不热")).json()[0]
    do(db, clock, DISPATCHER, int(first), "dispatch", lead_unit=STREET)
    do(db, clock, DISPATCHER, int(second["service_request_id"]), "terminate", reason="重复")
    [one] = client.get(f"{BASE}/requests/{first}.json?extensions=true").json()
    assert one["status"] == "open" and one["agency_responsible"] == "东华门街道"
    assert one["extensions"]["jiesu_status"] == "dispatched"
    with db.engine.connect() as conn:
        due = conn.execute(sa.select(Case.reply_due).where(Case.id == int(first))).scalar_one()
    assert one["expected_datetime"].startswith(
        (due + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    )
    closed = client.get(f"{BASE}/requests.json?status=closed").json()
    assert [r["service_request_id"] for r in closed] == [second["service_request_id"]]
    both = client.get(f"{BASE}/requests.json?status=open,closed&service_code={HEATING}").json()
    assert len(both) == 2
    assert client.get(f"{BASE}/requests.json?service_code={NOISE}").json() == []
    page = client.get(f"{BASE}/requests.json?page_size=1&page=2").json()
    assert [r["service_request_id"] for r in page] == [first]  # newest first


def test_no_personal_data_in_any_get(client: TestClient, api_key: str) -> None:
    secrets = ["13912345678", "wang@example.cn", "device-7f3a", "小明", "王"]
    resp = post(
        client,
        **heating(
            api_key,
            first_name="小明",
            last_name="王",
            phone="13912345678",
            email="wang@example.cn",
            device_id="device-7f3a",
            account_id="acct-1",
            description="我是王小明，电话13912345678，邮箱 wang@example.cn，暖气不热。",
        ),
    )
    rid = resp.json()[0]["service_request_id"]
    for path in (
        f"requests/{rid}.json?extensions=true",
        f"requests/{rid}.xml?extensions=true",
        "requests.json?extensions=true",
        "requests.xml",
        f"requests.json?service_request_id={rid}",
    ):
        body = client.get(f"{BASE}/{path}").content.decode("utf-8")
        for secret in secrets[:4]:
            assert secret not in body, (path, secret)
        assert "王小明" not in body
        assert "暖气不热" in body  # the request itself is still public


def test_xml_looking_description_round_trips_escaped(client: TestClient, api_key: str) -> None:
    text = '<script>alert("x")</script> & <![CDATA[ ]]> <?php echo 1; ?> 路灯不亮'
    made = post(
        client,
        "xml",
        api_key=api_key,
        service_code=LAMP,
        address_string="东华门大街 <12> 号",
        description=text,
    )
    assert made.status_code == 201
    rid = SafeET.fromstring(made.content).findtext("request/service_request_id")
    resp = client.get(f"{BASE}/requests/{rid}.xml")
    assert resp.headers["content-type"].startswith("text/xml")
    assert b"<script>" not in resp.content
    request = SafeET.fromstring(resp.content).find("request")
    assert request is not None
    assert request.findtext("description") == text
    assert request.findtext("address") == "东华门大街 <12> 号"
    assert client.get(f"{BASE}/requests/{rid}.json").json()[0]["description"] == text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_services_and_definition(client: TestClient, fmt: str) -> None:
    def load(path: str) -> Any:
        resp = client.get(f"{BASE}/{path}.{fmt}")
        assert resp.status_code == 200
        return resp.json() if fmt == "json" else SafeET.fromstring(resp.content)

    disc = load("discovery")
    services = load("services")
    definition = load(f"services/{HEATING}")
    if fmt == "json":
        assert disc["endpoints"][0]["url"].endswith("/open311/v2")
        by_code = {s["service_code"]: s for s in services}
        assert by_code[HEATING]["metadata"] is True and by_code[HEATING]["group"] == "公用事业"
        assert by_code["010101"]["metadata"] is False
        assert all(len(code) == 6 for code in by_code)
        attrs = {a["code"]: a for a in definition["attributes"]}
        assert attrs["room_temp"]["datatype"] == "number" and attrs["room_temp"]["required"]
        assert [v["key"] for v in attrs["heating_type"]["values"]] == ["central", "self"]
    else:
        assert disc.findtext("endpoints/endpoint/url", "").endswith("/open311/v2")
        assert {f.text for f in disc.iter("format")} == {"text/xml", "application/json"}
        svc = next(s for s in services.iter("service") if s.findtext("service_code") == HEATING)
        assert svc.findtext("metadata") == "true" and svc.findtext("type") == "realtime"
        attr = definition.find("attributes/attribute")
        assert attr is not None and attr.findtext("code") == "room_temp"
        assert attr.findtext("required") == "true"


def test_informational_attribute_is_shown_but_not_asked(client: TestClient) -> None:
    [attr] = client.get(f"{BASE}/services/170301.json").json()["attributes"]
    assert attr["variable"] is False and "96777" in attr["description"]


def test_admin_issues_lists_and_revokes_keys(
    client: TestClient, db: Database, cleanup_clients: None
) -> None:
    admin = auth(client, "admin")
    url = "/api/v1/admin/open311/keys"
    assert (
        client.post(url, json={"client": "app"}, headers=auth(client, "agent")).status_code == 403
    )
    made = client.post(url, json={"client": "fix-my-street"}, headers=admin)
    assert made.status_code == 201
    key = made.json()["api_key"]
    assert client.post(url, json={"client": "fix-my-street"}, headers=admin).status_code == 409
    assert client.post(url, json={"client": "bad name!"}, headers=admin).status_code == 422
    listed = client.get(url, headers=admin).json()
    assert [c["client"] for c in listed] == ["fix-my-street"] and listed[0]["active"]
    assert key not in json.dumps(listed)
    assert post(client, **heating(key)).status_code == 201
    assert client.delete(f"{url}/fix-my-street", headers=admin).json()["active"] is False
    assert post(client, **heating(key, description="again")).status_code == 403
    assert client.delete(f"{url}/nobody", headers=admin).status_code == 404


def test_get_requests_defaults_to_the_last_90_days(
    client: TestClient, db: Database, clock: FixedClock, api_key: str
) -> None:
    old = post(client, **heating(api_key, description="去年冬天的")).json()[0]
    clock.advance(timedelta(days=91))
    new = post(client, **heating(api_key)).json()[0]
    ids = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()]
    assert ids == [new["service_request_id"]]
    # An explicit list of ids overrides the date window (the spec).
    both = f"{old['service_request_id']},{new['service_request_id']}"
    listed = client.get(f"{BASE}/requests.json?service_request_id={both}").json()
    assert len(listed) == 2
    with db.engine.connect() as conn:
        events = conn.execute(sa.select(sa.func.count()).select_from(CaseEvent)).scalar_one()
    assert events == 2
