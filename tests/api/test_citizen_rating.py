"""A citizen's rating on the tracker: however often it is posted, one answer counts (the
newest); the earlier ones stay as the case's rating history. Both databases."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from jiesu.web.models import CitizenRating
from tests.api.pages_helpers import form_token, login
from tests.conftest import Database
from tests.helpers import register, to_replied


def _rate(client: TestClient, token: str, case_id: int, **answers: str) -> None:
    resp = client.post(
        "/citizen/rate",
        data={"csrf_token": token, "case": str(case_id), "phone4": "5678", **answers},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    # The phone digits are the tracker's secret: the redirect never carries them.
    assert "5678" not in resp.headers["location"] and "phone4" not in resp.headers["location"]


def test_rating_again_replaces_the_earlier_answer(
    client: TestClient, db: Database, clock: FixedClock
) -> None:
    case = register(db, clock)  # the citizen's phone ends in 5678
    to_replied(db, clock, case.id)
    token = form_token(client.get("/citizen").text)
    # A citizen (or a script) posting the form over and over: not one rating per post.
    for _ in range(5):
        _rate(client, token, case.id, contacted="no", resolved="no", satisfaction="dissatisfied")
    clock.advance(timedelta(minutes=5))
    _rate(client, token, case.id, contacted="yes", resolved="partly", satisfaction="basically")

    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(CitizenRating.resolved, CitizenRating.superseded_at)
            .where(CitizenRating.case_id == case.id)
            .order_by(CitizenRating.id)
        ).all()
    assert len(rows) == 6  # the history is kept
    current = [r.resolved for r in rows if r.superseded_at is None]
    assert current == ["partly"]  # one answer counts: the newest

    client.cookies.clear()
    login(client, "callback")
    page = client.get(f"/callback/case/{case.id}").text
    assert "部分解决" in page  # the callback agent is offered the newest answer only


def test_the_database_refuses_two_current_ratings(db: Database, clock: FixedClock) -> None:
    case = register(db, clock)
    answers = {"contacted": True, "resolved": "yes", "satisfaction": "satisfied", "note": ""}
    with db.uow() as uow:
        uow.session.add(CitizenRating(case_id=case.id, at=clock.now(), **answers))
        uow.commit()
    with db.uow() as uow:
        uow.session.add(CitizenRating(case_id=case.id, at=clock.now(), **answers))
        try:
            uow.commit()
        except sa.exc.IntegrityError:
            refused = True
        else:
            refused = False
    assert refused
