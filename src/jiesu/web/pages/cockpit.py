"""领导驾驶舱: volumes, the three rates and their trend, rankings and the district map."""

from __future__ import annotations

import json
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from jiesu.cases.models import Case
from jiesu.cases.workflow import Role
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.org import load_org
from jiesu.web.pages import cockpit_data as d
from jiesu.web.render import render
from jiesu.web.session import PageUser, page_user, require_role

router = APIRouter()
ROLES = (Role.LEADER, Role.ANALYST, Role.ADMIN)
GEOJSON = Path(__file__).resolve().parents[2] / "data" / "beijing_districts.geojson"
METRICS = {
    "composite": i18n.N_("Composite score"),
    "volume": i18n.N_("Volume"),
    "response": i18n.N_("Response rate"),
    "resolution": i18n.N_("Resolution rate"),
    "satisfaction": i18n.N_("Satisfaction rate"),
}
Month = Annotated[str, Query(max_length=7, pattern=r"^\d{4}-\d{2}$")]


def _month(request: Request, month: str | None) -> tuple[str, list[str]]:
    months = d.months_back(request.app.state.clock.now(), request.app.state.settings.tz, 12)
    return (month if month in months else months[-1]), months


def console(
    request: Request, user: PageUser, month: str | None = None, metric: str = "composite"
) -> Response:
    require_role(user, *ROLES)
    tz = request.app.state.settings.tz
    now = request.app.state.clock.now()
    month, months = _month(request, month)
    metric = metric if metric in METRICS else "composite"
    start, end = d.month_bounds(month, tz)
    today = datetime.combine(now.astimezone(tz).date(), time(), tz)
    with UnitOfWork(request.app.state.session_factory) as uow:
        s = uow.session
        org = load_org(s)
        trend = []
        for m in months[-6:]:
            a, b = d.month_bounds(m, tz)
            trend.append((m, d.volume(s, a, b), d.rates(s, a, b)))
        by_district = d.rates_by(s, Case.district, start, end)
        vol_district = d.volume_by(s, Case.district, start, end)
        by_unit = d.rates_by(s, Case.lead_unit, start, end)
        kpis = {
            "today": d.volume(s, today, now),
            "month": d.volume(s, start, end),
            "rates": d.rates(s, start, end),
        }
    ranking = {}
    for group, kinds in (
        ("districts", ("district",)),
        ("streets", ("street",)),
        ("departments", ("department",)),
        ("enterprises", ("enterprise",)),
    ):
        rows = [
            (code, org.unit(code), r)
            for code, r in by_unit.items()
            if org.unit_kind.get(code) in kinds and r.composite is not None
        ]
        rows.sort(key=lambda x: x[2].composite or 0, reverse=True)
        ranking[group] = rows[:10]
    districts = [
        (code, name, d.metric_of(metric, by_district.get(code), vol_district.get(code, 0)))
        for code, name in org.districts()
    ]
    districts.sort(key=lambda x: -1 if x[2] is None else x[2], reverse=True)
    return render(
        request,
        "cockpit.html",
        user,
        month=month,
        months=months,
        metric=metric,
        metrics=METRICS,
        kpis=kpis,
        trend=trend,
        ranking=ranking,
        districts=districts,
        trend_json=json.dumps(
            [
                {
                    "month": m,
                    "volume": v,
                    "response": d.metric_of("response", r, v),
                    "resolution": d.metric_of("resolution", r, v),
                    "satisfaction": d.metric_of("satisfaction", r, v),
                }
                for m, v, r in trend
            ]
        ),
        map_json=json.dumps(
            [{"name": name, "code": code, "value": value} for code, name, value in districts],
            ensure_ascii=False,
        ),
    )


@router.get("/cockpit")
def cockpit_page(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    month: Month | None = None,
    metric: Annotated[str, Query(max_length=20)] = "composite",
) -> Response:
    return console(request, user, month, metric)


@router.get("/cockpit/district/{code}")
def district_streets(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    code: str,
    month: Month | None = None,
    metric: Annotated[str, Query(max_length=20)] = "composite",
) -> Response:
    """HTMX partial: the district's streets ranked by the metric (the map's drill-down)."""
    require_role(user, *ROLES)
    month, _ = _month(request, month)
    metric = metric if metric in METRICS else "composite"
    start, end = d.month_bounds(month, request.app.state.settings.tz)
    with UnitOfWork(request.app.state.session_factory) as uow:
        org = load_org(uow.session)
        by_street = d.rates_by(uow.session, Case.street, start, end)
        vol = d.volume_by(uow.session, Case.street, start, end)
    rows: list[tuple[str, str, float | None, Any]] = [
        (c, n, d.metric_of(metric, by_street.get(c), vol.get(c, 0)), by_street.get(c))
        for _, c, n in org.streets()
        if org.unit_parent.get(c) == code
    ]
    rows.sort(key=lambda x: -1 if x[2] is None else x[2], reverse=True)
    return render(
        request,
        "_district.html",
        user,
        district=org.unit(code),
        rows=rows,
        metric=metric,
        metrics=METRICS,
        vol=vol,
    )


@lru_cache(maxsize=1)
def _geojson() -> bytes:
    return GEOJSON.read_bytes()


@router.get("/cockpit/beijing.geojson")
def geojson(user: Annotated[PageUser, Depends(page_user)]) -> Response:
    return Response(_geojson(), media_type="application/geo+json")
