"""Assessment use cases: compute a month from the lake, freeze it, list versions, drill down.

Live figures come from the lake through a metric engine; a frozen month comes from its
snapshot, recomputed exactly from the stored counts and the stored policy.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.analytics.catalogue import catalogue, check_code
from jiesu.analytics.engines import MetricEngine, run_metric
from jiesu.analytics.lake import MONTH_RE, check_month
from jiesu.assessment.models import AssessmentPolicy, AssessmentRow, AssessmentSnapshot
from jiesu.assessment.scoring import (
    ANY_KIND,
    GROUP_NAMES,
    GROUPS,
    Assessment,
    Policy,
    UnitCounts,
    UnitInfo,
    diff,
    policy_for,
    score,
)
from jiesu.auth.actor import Actor
from jiesu.changelog import record_change
from jiesu.clock import Clock
from jiesu.errors import Conflict, InvalidInput, NotFound
from jiesu.reasons import Refusal
from jiesu.uow import UnitOfWork

METRICS = ("assessed", "response", "resolution", "satisfaction")
ASSESSMENT_METRICS = ("assessed_rows", "assessed_cases", "unit_month_counts")


def month_arg(month: str) -> str:
    try:
        return check_month(month)
    except ValueError as exc:
        raise InvalidInput(str(exc), details={"field": "month"}) from exc


def group_arg(group: str | None) -> str | None:
    if group is not None and group not in GROUP_NAMES:
        raise InvalidInput(
            f"group must be one of {', '.join(GROUP_NAMES)}, not {group!r}",
            details={"field": "group"},
        )
    return group


def shift_month(month: str, delta: int) -> str:
    y, m = int(month[:4]), int(month[5:])
    index = y * 12 + (m - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def load_policies(session: Session | None) -> list[Policy]:
    if session is None:
        return []
    return [
        _policy_from_row(p)
        for p in session.scalars(select(AssessmentPolicy).order_by(AssessmentPolicy.id))
    ]


def _policy_from_row(p: AssessmentPolicy) -> Policy:
    """The stored row as the scoring policy, which checks it (weights sum to one …)."""
    return Policy(
        unit_kind=p.unit_kind,
        effective_from=p.effective_from,
        response_weight=Fraction(p.response_weight),
        resolution_weight=Fraction(p.resolution_weight),
        satisfaction_weight=Fraction(p.satisfaction_weight),
        basically_factor=Fraction(p.basically_factor),
        partly_factor=Fraction(p.partly_factor),
        min_cases=p.min_cases,
    )


def unit_infos(engine: MetricEngine) -> dict[str, UnitInfo]:
    rows = engine.query("SELECT code, name, kind FROM units")
    return {r["code"]: UnitInfo(r["code"], r["name"], r["kind"]) for r in rows}


def counts_row(row: dict[str, Any], key: str = "unit") -> UnitCounts:
    return UnitCounts(
        unit=str(row[key]),
        assessed=int(row["assessed"]),
        responded=int(row["responded"]),
        resolved=int(row["resolved"]),
        partly=int(row["partly"]),
        satisfied=int(row["satisfied"]),
        basically=int(row["basically"]),
    )


def counts_by_month(
    engine: MetricEngine, month_from: str, month_to: str
) -> dict[str, list[UnitCounts]]:
    out: dict[str, list[UnitCounts]] = defaultdict(list)
    for row in run_metric(engine, "unit_month_counts", month_from, month_to):
        out[str(row["month"])].append(counts_row(row))
    return out


def live(engine: MetricEngine, month: str, policies: list[Policy]) -> Assessment:
    counts = counts_by_month(engine, month, month).get(month, [])
    return score(month, counts, unit_infos(engine), policies)


def history(
    engine: MetricEngine, month: str, months: int, policies: list[Policy]
) -> dict[str, Assessment]:
    """The last `months` months up to `month`, one query (trends, movers, focus streets)."""
    start = shift_month(month, -(months - 1))
    infos = unit_infos(engine)
    by_month = counts_by_month(engine, start, month)
    return {
        m: score(m, by_month.get(m, []), infos, policies)
        for m in (shift_month(start, i) for i in range(months))
    }


def definitions() -> dict[str, Any]:
    metrics = catalogue()
    return {
        name: {
            "title": metrics[name].title,
            "definition": metrics[name].definition,
            "sha256": hashlib.sha256(metrics[name].sql.encode()).hexdigest(),
        }
        for name in ASSESSMENT_METRICS
    }


# --- snapshots -------------------------------------------------------------------------


def snapshots(session: Session, month: str) -> list[AssessmentSnapshot]:
    return list(
        session.scalars(
            select(AssessmentSnapshot)
            .where(AssessmentSnapshot.month == month)
            .order_by(AssessmentSnapshot.version)
        )
    )


def latest_snapshot(session: Session, month: str) -> AssessmentSnapshot | None:
    found = snapshots(session, month)
    return found[-1] if found else None


def get_snapshot(session: Session, month: str, version: int) -> AssessmentSnapshot:
    snap = session.scalar(
        select(AssessmentSnapshot).where(
            AssessmentSnapshot.month == month, AssessmentSnapshot.version == version
        )
    )
    if snap is None:
        raise NotFound(f"month {month} has no frozen version {version}")
    return snap


def frozen(session: Session, snap: AssessmentSnapshot) -> Assessment:
    """The snapshot's figures, recomputed exactly from its counts under its own policy."""
    rows = session.scalars(
        select(AssessmentRow).where(AssessmentRow.snapshot_id == snap.id).order_by(AssessmentRow.id)
    ).all()
    kinds = {"districts": "district", "streets": "street"}
    kinds |= {"departments": "department", "enterprises": "enterprise"}
    infos = {r.unit_code: UnitInfo(r.unit_code, r.name, kinds[r.unit_group]) for r in rows}
    counts = [
        UnitCounts(
            r.unit_code, r.assessed, r.responded, r.resolved, r.partly, r.satisfied, r.basically
        )
        for r in rows
    ]
    policies = [_policy_from_dict(p) for p in snap.policy]
    return score(snap.month, counts, infos, policies)


def _policy_from_dict(d: dict[str, Any]) -> Policy:
    return Policy(
        unit_kind=d["unit_kind"],
        effective_from=d["effective_from"],
        response_weight=Fraction(d["response_weight"]),
        resolution_weight=Fraction(d["resolution_weight"]),
        satisfaction_weight=Fraction(d["satisfaction_weight"]),
        basically_factor=Fraction(d["basically_factor"]),
        partly_factor=Fraction(d["partly_factor"]),
        min_cases=int(d["min_cases"]),
    )


@dataclass
class FreezeResult:
    snapshot: AssessmentSnapshot
    created: bool


def freeze(
    session: Session,
    clock: Clock,
    engine: MetricEngine,
    month: str,
    *,
    by: str,
    reason: str = "",
    lake_refreshed_at: str | None = None,
) -> FreezeResult:
    """Freeze the month; if it is frozen already and nothing changed, keep the version, else
    record a new version with its diff (a later exclusion is never a silent rewrite)."""
    month = month_arg(month)
    policies = load_policies(session)
    current = live(engine, month, policies)
    previous = latest_snapshot(session, month)
    changes: list[dict[str, Any]] = []
    if previous is not None:
        before = frozen(session, previous)
        changes = diff([u.as_dict() for u in before.units], [u.as_dict() for u in current.units])
        if not changes:
            return FreezeResult(previous, False)
    # Each ranked kind's row, and the catch-all one the city's pooled rates use.
    kinds = (*GROUPS, ANY_KIND)
    in_force = {policy_for(policies, kind, month) for kind in kinds}
    snap = AssessmentSnapshot(
        month=month,
        version=(previous.version + 1) if previous else 1,
        created_at=clock.now(),
        created_by=by,
        engine=engine.name,
        reason=reason,
        lake_refreshed_at=lake_refreshed_at,
        policy=[p.as_dict() for p in sorted(in_force, key=lambda p: p.unit_kind)],
        definitions=definitions(),
        diff=changes,
    )
    session.add(snap)
    session.flush()
    for u in current.units:
        c = u.counts
        session.add(
            AssessmentRow(
                snapshot_id=snap.id,
                unit_code=u.unit,
                name=u.name,
                unit_group=u.group,
                assessed=c.assessed,
                responded=c.responded,
                resolved=c.resolved,
                partly=c.partly,
                satisfied=c.satisfied,
                basically=c.basically,
                response_rate=float(u.response_rate),
                resolution_rate=float(u.resolution_rate),
                satisfaction_rate=float(u.satisfaction_rate),
                composite=float(u.composite),
                rank=u.rank,
            )
        )
    return FreezeResult(snap, True)


# --- drill-down ------------------------------------------------------------------------


def drill(
    engine: MetricEngine, month: str, unit: str, metric: str, policies: list[Policy]
) -> list[dict[str, Any]]:
    """The cases behind one unit's figure: each with its credit towards the rate, so the
    figure is exactly sum(credit) / len(cases)."""
    month = month_arg(month)
    if metric not in METRICS:
        raise InvalidInput(
            f"metric must be one of {', '.join(METRICS)}", details={"field": "metric"}
        )
    try:
        check_code(unit)
    except ValueError as exc:
        raise InvalidInput(str(exc), details={"field": "unit"}) from exc
    info = unit_infos(engine).get(unit)
    if info is None:
        raise NotFound(f"unit {unit} is not in the analytics lake; run `jiesu analytics refresh`")
    p = policy_for(policies, info.kind, month)
    from jiesu.analytics.catalogue import render

    sql = f"SELECT * FROM ({render('assessed_cases', month)}) a WHERE a.unit = '{unit}'"
    out = []
    for r in sorted(engine.query(sql), key=lambda r: int(r["case_id"])):
        credit: Fraction | int = 1
        if metric == "response":
            credit = int(r["responded"])
        elif metric == "resolution":
            weights: dict[str, Fraction | int] = {"yes": 1, "partly": p.partly_factor}
            credit = weights.get(str(r["resolved"]), 0)
        elif metric == "satisfaction":
            weights = {"satisfied": 1, "basically": p.basically_factor}
            credit = weights.get(str(r["satisfaction"]), 0)
        out.append(
            {
                "case_id": int(r["case_id"]),
                "callback_id": int(r["callback_id"]),
                "called_at": r["called_at"].isoformat() if r["called_at"] else None,
                "category": r["category"],
                "street": r["street"],
                "contacted": bool(r["contacted"]),
                "responded": bool(r["responded"]),
                "resolved": r["resolved"],
                "satisfaction": r["satisfaction"],
                "credit": float(credit),
            }
        )
    return out


def add_weights(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    row: AssessmentPolicy,
    tz: ZoneInfo,
) -> AssessmentPolicy:
    """考评权重 for a unit kind from a month on. A month already frozen keeps its own policy,
    so a new version starts this month or later, and one month has one version per kind."""
    if not MONTH_RE.match(row.effective_from):
        raise InvalidInput(
            "effective_from: a month like 2027-01", details={"field": "effective_from"}
        )
    if row.effective_from < clock.now().astimezone(tz).strftime("%Y-%m"):
        raise InvalidInput(
            "effective_from: a new version starts now or later; history is never rewritten",
            details={"field": "effective_from"},
        )
    try:
        _policy_from_row(row)
    except Refusal as exc:
        raise InvalidInput.of(exc.reason.id, field="weights", **exc.reason.params) from None
    except ValueError as exc:
        raise InvalidInput(f"weights: {exc}", details={"field": "weights"}) from None
    session = uow.session
    clash = session.scalar(
        select(AssessmentPolicy.id).where(
            AssessmentPolicy.unit_kind == row.unit_kind,
            AssessmentPolicy.effective_from == row.effective_from,
        )
    )
    if clash is not None:
        raise Conflict.of(
            "weights_exist", field="effective_from", kind=row.unit_kind, month=row.effective_from
        )
    session.add(row)
    names = (
        "response_weight",
        "resolution_weight",
        "satisfaction_weight",
        "basically_factor",
        "partly_factor",
    )
    detail = ", ".join(f"{n} {getattr(row, n)}" for n in names) + f", min_cases {row.min_cases}"
    record_change(
        session, actor, clock.now(), "weights", f"{row.unit_kind} from {row.effective_from}", detail
    )
    uow.commit()
    return row
