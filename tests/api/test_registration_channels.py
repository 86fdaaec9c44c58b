"""Every channel registers through one function (cases/registration.py): the API through its
registrar, the agent and citizen pages and Open311 as a group of one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.cases import registration
from jiesu.clock import FixedClock
from jiesu.open311.keys import create_key
from tests.api.pages_helpers import form_token, login, post
from tests.conftest import T0, Database
from tests.helpers import STREET, auth

TEXT = "东华门街道幸福里小区路灯不亮，晚上出行不便。"


def test_api_pages_and_open311_reach_the_same_registration(
    client: TestClient, db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, bool]] = []
    real = registration._store

    def spy(uow: Any, clk: Any, group: Sequence[registration.Registration]) -> Any:
        seen.extend((r.actor.username, r.cmd.channel, r.propose) for r in group)
        return real(uow, clk, group)

    monkeypatch.setattr(registration, "_store", spy)
    body = {
        "text": TEXT,
        "request_type": "complaint",
        "street": STREET,
        "citizen": {"name": "王芳", "phone": "13812345678"},
    }
    api = client.post("/api/v1/cases", json=body, headers=auth(client, "agent"))
    assert api.status_code == 201
    token = login(client, "agent")
    page = post(client, "/agent/register", token, text=TEXT, request_type="complaint",
                street=STREET, phone="13812345678", name="王芳")  # fmt: skip
    assert page.status_code == 303  # type: ignore[attr-defined]
    anon = form_token(client.get("/citizen").text)
    citizen = client.post(
        "/citizen/submit",
        data={"csrf_token": anon, "text": TEXT, "phone": "13900001234", "street": STREET},
        follow_redirects=False,
    )
    assert citizen.status_code == 303, citizen.text
    with db.uow() as uow:
        key = create_key(uow.session, "path-app", T0)
        uow.commit()
    try:
        fields = {"api_key": key, "service_code": "050403", "description": "路灯不亮",
                  "address_string": "东华门大街 12 号"}  # fmt: skip
        o311 = client.post("/open311/v2/requests.json", data=fields)
        assert o311.status_code == 201, o311.text
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM open311_client"))
    # One function for all four; only the API stores the live engine's proposal.
    assert [(who, channel) for who, channel, _ in seen] == [
        ("agent", "phone"),
        ("agent", "phone"),
        ("citizen-web", "web"),
        ("open311:path-app", "open311"),
    ]
    assert [propose for *_, propose in seen] == [True, False, False, False]
