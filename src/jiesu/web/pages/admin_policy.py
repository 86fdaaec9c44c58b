"""管理员: policy tables kept as version rows — time limits, routing rules, assessment weights.

A change never edits a row: it adds a new version with its effective_from, so every case keeps
the rule it was handled under and the list of rows is the history (DESIGN §4, §5, §6). Who
added each version is in the change log (admin_change).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from jiesu.analytics.lake import MONTH_RE
from jiesu.assessment.models import AssessmentPolicy
from jiesu.assessment.scoring import Policy
from jiesu.auth.permissions import Capability
from jiesu.errors import Conflict, DomainError, InvalidInput
from jiesu.inputs import whole_number
from jiesu.reasons import Refusal
from jiesu.routing.models import RoutingRule
from jiesu.routing.rules import DISTRICT, STREET
from jiesu.sla.models import SlaPolicy
from jiesu.units.models import UNIT_KINDS, Category, Unit
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.pages import admin_forms as f
from jiesu.web.render import error_message
from jiesu.web.session import PageUser, posting_user, require_page

router = APIRouter()
REQUEST_TYPES = ("", "inquiry", "help", "complaint", "report", "suggestion")
URGENCIES = ("", "urgent", "prompt", "normal", "complex")
TIME_UNITS = ("hours", "workdays")
ANY_KIND = "*"


def _category_prefix(request: Request, form: dict[str, str]) -> str:
    prefix = f.code(form, "category_prefix", 32, "digits of a category code, or empty for all")
    if prefix:
        with UnitOfWork(request.app.state.session_factory) as uow:
            known = uow.session.scalar(
                select(func.count()).where(Category.code.startswith(prefix, autoescape=True))
            )
        if not known:
            raise InvalidInput.of("no_category_prefix", field="category_prefix", prefix=prefix)
    return prefix


@router.post("/admin/time-limits")
def add_time_limit(request: Request, user: Annotated[PageUser, Depends(posting_user)]) -> Response:
    """A new version of one policy row: (request type, category prefix, urgency) → limits."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    now = request.app.state.clock.now()
    try:
        limits = {}
        for part in ("contact", "reply", "callback"):
            limits[part] = (
                f.whole(form, f"{part}_value", 1, 10_000),
                f.choice(form, f"{part}_unit", TIME_UNITS),
            )
        row = SlaPolicy(
            request_type=f.choice(form, "request_type", REQUEST_TYPES) or None,
            category_prefix=_category_prefix(request, form),
            urgency=f.choice(form, "urgency", URGENCIES) or None,
            contact_value=limits["contact"][0],
            contact_unit=limits["contact"][1],
            reply_value=limits["reply"][0],
            reply_unit=limits["reply"][1],
            callback_value=limits["callback"][0],
            callback_unit=limits["callback"][1],
            effective_from=f.effective_from(form, request.app.state.settings.tz, now),
        )
        with UnitOfWork(request.app.state.session_factory) as uow:
            top = uow.session.scalar(select(func.max(SlaPolicy.version))) or 0
            row.version = top + 1
            uow.session.add(row)
            key = f"{row.request_type or '*'} / {row.category_prefix or '*'} / {row.urgency or '*'}"
            detail = ", ".join(f"{k} {v} {u}" for k, (v, u) in limits.items())
            f.record(
                uow.session,
                user,
                now,
                "time_limits",
                f"v{row.version} {key}",
                f"{detail}; from {row.effective_from.isoformat()}",
            )
            uow.commit()
    except DomainError as exc:
        return f.done(request, user, "time_limits", error_message(lang, exc), False)
    msg = i18n.gettext(lang, "New time-limit version saved.")
    return f.done(request, user, "time_limits", msg, True)


def _unit_code(session_factory: object, code: str, field: str) -> str:
    with UnitOfWork(session_factory) as uow:  # type: ignore[arg-type]
        if uow.session.get(Unit, code) is None:
            raise InvalidInput.of("unknown_unit", field=field, unit=code)
    return code


@router.post("/admin/routing")
def add_routing_rule(
    request: Request, user: Annotated[PageUser, Depends(posting_user)]
) -> Response:
    """A new routing rule; the most specific rule in force wins (routing.rules.route)."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    now = request.app.state.clock.now()
    factory = request.app.state.session_factory
    try:
        prefix = _category_prefix(request, form)
        area = f.text(form, "area_code", 32)
        if area:
            _unit_code(factory, area, "area_code")
        target = f.text(form, "target", 32)
        if not target:
            raise InvalidInput(
                "target: a unit code, @street or @district", details={"field": "target"}
            )
        if target not in (STREET, DISTRICT):
            _unit_code(factory, target, "target")
        co = [c for c in f.text(form, "co_targets", 200).replace(",", " ").split() if c]
        for c in co:
            if c not in (STREET, DISTRICT):
                _unit_code(factory, c, "co_targets")
        rule = RoutingRule(
            category_prefix=prefix,
            area_code=area,
            target=target,
            co_targets="|".join(co),
            note=f.text(form, "note", 300),
            effective_from=f.effective_from(form, request.app.state.settings.tz, now),
        )
        with UnitOfWork(factory) as uow:
            uow.session.add(rule)
            uow.session.flush()
            f.record(
                uow.session,
                user,
                now,
                "routing",
                f"rule {rule.id}: {prefix or '*'} × {area or '*'} → {target}",
                f"co {'|'.join(co) or '-'}; from {rule.effective_from.isoformat()}; {rule.note}",
            )
            uow.commit()
    except DomainError as exc:
        return f.done(request, user, "routing", error_message(lang, exc), False)
    return f.done(request, user, "routing", i18n.gettext(lang, "Routing rule added."), True)


@router.post("/admin/routing/retire")
def retire_routing_rule(
    request: Request, user: Annotated[PageUser, Depends(posting_user)]
) -> Response:
    """Retire a rule from a date on; it stays in the history and in force before that date."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    now = request.app.state.clock.now()
    try:
        raw = f.text(form, "rule_id", 12)
        rule_id = whole_number(raw, low=1)
        if rule_id is None:
            raise InvalidInput("rule_id: the number of the rule", details={"field": "rule_id"})
        since = f.effective_from(form, request.app.state.settings.tz, now)
        with UnitOfWork(request.app.state.session_factory) as uow:
            rule = uow.session.get(RoutingRule, rule_id)
            if rule is None:
                raise InvalidInput(f"rule_id: no rule {raw}", details={"field": "rule_id"})
            if rule.retired_from is not None:
                raise InvalidInput(
                    f"rule_id: rule {raw} is already retired", details={"field": "rule_id"}
                )
            rule.retired_from = max(since, rule.effective_from)
            f.record(
                uow.session,
                user,
                now,
                "routing",
                f"rule {rule.id} retired",
                f"from {rule.retired_from.isoformat()}",
            )
            uow.commit()
    except DomainError as exc:
        return f.done(request, user, "routing", error_message(lang, exc), False)
    return f.done(request, user, "routing", i18n.gettext(lang, "Routing rule retired."), True)


@router.post("/admin/weights")
def add_weights(request: Request, user: Annotated[PageUser, Depends(posting_user)]) -> Response:
    """考评权重 for a unit kind from a month on; a month already frozen keeps its own policy."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    now = request.app.state.clock.now()
    this_month = now.astimezone(request.app.state.settings.tz).strftime("%Y-%m")
    try:
        kind = f.choice(form, "unit_kind", (ANY_KIND, *UNIT_KINDS))
        month = f.text(form, "effective_from", 7)
        if not MONTH_RE.match(month):
            raise InvalidInput(
                "effective_from: a month like 2027-01", details={"field": "effective_from"}
            )
        if month < this_month:
            raise InvalidInput(
                "effective_from: a new version starts now or later; history is never rewritten",
                details={"field": "effective_from"},
            )
        values = {
            n: f.decimal(form, n)
            for n in (
                "response_weight",
                "resolution_weight",
                "satisfaction_weight",
                "basically_factor",
                "partly_factor",
            )
        }
        min_cases = f.whole(form, "min_cases", 0, 100_000)
        try:
            Policy(
                unit_kind=kind,
                effective_from=month,
                min_cases=min_cases,
                **{k: Fraction(v) for k, v in values.items()},
            )
        except Refusal as exc:
            reason = exc.reason
            raise InvalidInput.of(reason.id, field="weights", **reason.params) from None
        except ValueError as exc:
            raise InvalidInput(f"weights: {exc}", details={"field": "weights"}) from None
        with UnitOfWork(request.app.state.session_factory) as uow:
            clash = uow.session.scalar(
                select(AssessmentPolicy.id).where(
                    AssessmentPolicy.unit_kind == kind, AssessmentPolicy.effective_from == month
                )
            )
            if clash is not None:
                raise Conflict.of("weights_exist", field="effective_from", kind=kind, month=month)
            uow.session.add(
                AssessmentPolicy(
                    unit_kind=kind, effective_from=month, min_cases=min_cases, **values
                )
            )
            detail = ", ".join(f"{k} {v}" for k, v in values.items()) + f", min_cases {min_cases}"
            f.record(uow.session, user, now, "weights", f"{kind} from {month}", detail)
            uow.commit()
    except DomainError as exc:
        return f.done(request, user, "weights", error_message(lang, exc), False)
    return f.done(request, user, "weights", i18n.gettext(lang, "Weights saved."), True)
