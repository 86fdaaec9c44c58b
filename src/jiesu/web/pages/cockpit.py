"""领导驾驶舱: volumes, the three rates and their trend, rankings, focus streets and the
district map — read from jiesu.assessment summaries (cockpit_summary), never the raw stream."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from jiesu.assessment.scoring import GROUP_NAMES, UnitScore
from jiesu.auth.permissions import Capability
from jiesu.clock import Clock
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.deps import ClockDep, UowDep
from jiesu.web.org import load_org
from jiesu.web.pages import cockpit_data as d
from jiesu.web.pages import cockpit_governance as governance
from jiesu.web.pages import cockpit_summary as summary
from jiesu.web.render import render
from jiesu.web.session import PageUser, PageUserDep, require_page

router = APIRouter()
GEOJSON = Path(__file__).resolve().parents[2] / "data" / "beijing_districts.geojson"
METRICS = {
    "composite": i18n.N_("Composite score"),
    "volume": i18n.N_("Volume"),
    "response": i18n.N_("Response rate"),
    "resolution": i18n.N_("Resolution rate"),
    "satisfaction": i18n.N_("Satisfaction rate"),
}
GROUPS = {
    "districts": i18n.N_("Districts"),
    "streets": i18n.N_("Streets and townships"),
    "departments": i18n.N_("Departments"),
    "enterprises": i18n.N_("Enterprises"),
}
Month = Annotated[str, Query(max_length=7, pattern=r"^\d{4}-\d{2}$")]


def _month(request: Request, clock: Clock, month: str | None) -> tuple[str, list[str]]:
    months = d.months_back(clock.now(), request.app.state.settings.tz, 12)
    return (month if month in months else months[-1]), months


def _lake(request: Request) -> Path:
    return Path(request.app.state.settings.lake_dir)


def console(
    request: Request,
    user: PageUser,
    uow: UnitOfWork,
    clock: Clock,
    month: str | None = None,
    metric: str = "composite",
) -> Response:
    require_page(user, Capability.USE_COCKPIT)
    tz = request.app.state.settings.tz
    now = clock.now()
    month, months = _month(request, clock, month)
    metric = metric if metric in METRICS else "composite"
    today = datetime.combine(now.astimezone(tz).date(), time(), tz)
    org = load_org(uow.session)
    fig = summary.figures(uow.session, _lake(request), month)
    # Today's count is the one live figure: a range on an indexed column, never the month.
    today_volume = d.volume(uow.session, today, today + timedelta(days=1))
    by_district = {u.unit: u for u in fig.units("districts")}
    ranking = {}
    for group in GROUP_NAMES:
        units = fig.units(group)
        ranked = [u for u in units if u.rank is not None]
        ranking[group] = (ranked[:10], len(units) - len(ranked))
    districts = [
        (
            code,
            name,
            summary.map_value(metric, by_district.get(code), fig.district_volume.get(code, 0)),
        )
        for code, name in org.districts()
    ]
    districts.sort(key=lambda x: -1 if x[2] is None else x[2], reverse=True)
    trend = [
        {
            "month": m,
            "volume": v,
            "response": summary.metric_value("response", r, v),
            "resolution": summary.metric_value("resolution", r, v),
            "satisfaction": summary.metric_value("satisfaction", r, v),
        }
        for m, v, r in fig.trend
    ]
    return render(
        request,
        "cockpit.html",
        user,
        month=month,
        months=months,
        metric=metric,
        metrics=METRICS,
        fig=fig,
        today=today_volume,
        ranking=ranking,
        groups=GROUPS,
        focus=fig.focus(),
        districts=districts,
        org=org,
        gov=governance.panels(_lake(request), month, i18n.lang_of(request)),
        trend_json=json.dumps(trend),
        map_json=json.dumps(
            [{"name": name, "code": code, "value": value} for code, name, value in districts],
            ensure_ascii=False,
        ),
    )


@router.get("/cockpit")
def cockpit_page(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    month: Month | None = None,
    metric: Annotated[str, Query(max_length=20)] = "composite",
) -> Response:
    return console(request, user, uow, clock, month, metric)


@router.get("/cockpit/district/{code}")
def district_streets(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    code: str,
    month: Month | None = None,
    metric: Annotated[str, Query(max_length=20)] = "composite",
) -> Response:
    """HTMX partial: the district's streets ranked by the metric (the map's drill-down)."""
    require_page(user, Capability.USE_COCKPIT)
    month, _ = _month(request, clock, month)
    metric = metric if metric in METRICS else "composite"
    org = load_org(uow.session)
    fig = summary.figures(uow.session, _lake(request), month)
    streets = {u.unit: u for u in fig.units("streets")}
    rows: list[tuple[str, str, float | None, UnitScore | None]] = [
        (c, n, summary.unit_metric(metric, streets[c]) if c in streets else None, streets.get(c))
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
    )


@lru_cache(maxsize=1)
def _geojson() -> bytes:
    return GEOJSON.read_bytes()


@router.get("/cockpit/beijing.geojson")
def geojson(user: PageUserDep) -> Response:
    return Response(_geojson(), media_type="application/geo+json")
