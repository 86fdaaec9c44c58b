"""JSON API of assessment: a month's figures per group, and the cases behind a figure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query

from jiesu.analytics.engines import DuckDBEngine
from jiesu.assessment import service
from jiesu.assessment.scoring import GROUP_NAMES
from jiesu.auth.permissions import Capability, require
from jiesu.errors import NotFound
from jiesu.web.deps import CurrentActor, MonthPath, SettingsDep, UowDep, one_of
from jiesu.web.responses import errors

router = APIRouter(prefix="/assessment", tags=["assessment"], responses=errors(401, 403, 404, 422))


def _engine(lake_dir: str) -> DuckDBEngine:
    lake = Path(lake_dir)
    if not (lake / "_state.json").exists():
        raise NotFound("the analytics lake is empty; run `jiesu analytics refresh`")
    return DuckDBEngine(lake)


@router.get("/{month}")
def month_figures(
    month: MonthPath,
    uow: UowDep,
    actor: CurrentActor,
    settings: SettingsDep,
    group: Annotated[str | None, Query(json_schema_extra=one_of(GROUP_NAMES))] = None,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="a frozen version; default latest")
    ] = None,
) -> dict[str, Any]:
    """考评: {"month", "source", "units": [...]} with rates as fractions in [0, 1]."""
    require(actor, Capability.READ_ASSESSMENT)
    month = service.month_arg(month)
    group = service.group_arg(group)
    session = uow.session
    snap = (
        service.get_snapshot(session, month, version)
        if version is not None
        else service.latest_snapshot(session, month)
    )
    if snap is not None:
        body = service.frozen(session, snap).as_dict(group)
        return body | {"source": "frozen", "version": snap.version}
    engine = _engine(settings.lake_dir)
    try:
        body = service.live(engine, month, service.load_policies(session)).as_dict(group)
    finally:
        engine.close()
    return body | {"source": "live", "version": None}


@router.get("/{month}/versions")
def month_versions(month: MonthPath, uow: UowDep, actor: CurrentActor) -> list[dict[str, Any]]:
    require(actor, Capability.READ_ASSESSMENT)
    return [
        {
            "version": s.version,
            "created_at": s.created_at.isoformat(),
            "created_by": s.created_by,
            "reason": s.reason,
            "diff": s.diff,
        }
        for s in service.snapshots(uow.session, service.month_arg(month))
    ]


@router.get("/{month}/{unit}/cases")
def unit_cases(
    month: MonthPath,
    unit: str,
    uow: UowDep,
    actor: CurrentActor,
    settings: SettingsDep,
    metric: Annotated[str, Query(json_schema_extra=one_of(service.METRICS))] = "assessed",
) -> dict[str, Any]:
    """The cases behind one unit's figure; the figure is sum(credit) / len(cases)."""
    require(actor, Capability.READ_ASSESSMENT)
    month = service.month_arg(month)
    engine = _engine(settings.lake_dir)
    try:
        cases = service.drill(engine, month, unit, metric, service.load_policies(uow.session))
    finally:
        engine.close()
    total = sum(c["credit"] for c in cases)
    rate = total / len(cases) if cases else 0.0
    return {"month": month, "unit": unit, "metric": metric, "rate": rate, "cases": cases}
