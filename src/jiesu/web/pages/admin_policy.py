"""管理员: policy tables kept as version rows — time limits, routing rules, assessment weights.

A change never edits a row: it adds a new version with its effective_from, so every case keeps
the rule it was handled under and the list of rows is the history (DESIGN §4, §5, §6). Who
added each version is in the change log (admin_change).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jiesu.assessment.models import AssessmentPolicy
from jiesu.assessment.service import add_weights as add_weights_version
from jiesu.auth.permissions import Capability
from jiesu.errors import DomainError, InvalidInput
from jiesu.inputs import whole_number
from jiesu.routing.models import RoutingRule
from jiesu.routing.service import add_rule, retire_rule
from jiesu.sla.service import NewTimeLimits, add_time_limits
from jiesu.units.models import UNIT_KINDS
from jiesu.web import i18n
from jiesu.web.deps import ClockDep, SettingsDep, UowDep
from jiesu.web.pages import admin_forms as f
from jiesu.web.session import PostingUserDep, require_page

router = APIRouter()
REQUEST_TYPES = ("", "inquiry", "help", "complaint", "report", "suggestion")
URGENCIES = ("", "urgent", "prompt", "normal", "complex")
TIME_UNITS = ("hours", "workdays")
ANY_KIND = "*"

# Each handler reads its form; the write, its checks against the tables and its line in the
# change log are the policy's own service (sla, routing, assessment), as for the API and CLI.
# A refused write rolls the request's unit of work back: nothing of it is kept.


@router.post("/admin/time-limits")
def add_time_limit(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """A new version of one policy row: (request type, category prefix, urgency) → limits."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    try:
        limits = {
            part: (
                f.whole(form, f"{part}_value", 1, 10_000),
                f.choice(form, f"{part}_unit", TIME_UNITS),
            )
            for part in ("contact", "reply", "callback")
        }
        cmd = NewTimeLimits(
            request_type=f.choice(form, "request_type", REQUEST_TYPES) or None,
            category_prefix=f.code(
                form, "category_prefix", 32, "digits of a category code, or empty for all"
            ),
            urgency=f.choice(form, "urgency", URGENCIES) or None,
            effective_from=f.effective_from(form, settings.tz, clock.now()),
            **limits,
        )
        add_time_limits(uow, clock, user.actor, cmd)
    except DomainError as exc:
        return f.refused(request, user, uow, "time_limits", exc)
    msg = i18n.gettext(lang, "New time-limit version saved.")
    return f.done(request, user, "time_limits", msg, True)


@router.post("/admin/routing")
def add_routing_rule(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """A new routing rule; the most specific rule in force wins (routing.rules.route)."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    try:
        co = [c for c in f.text(form, "co_targets", 200).replace(",", " ").split() if c]
        rule = RoutingRule(
            category_prefix=f.code(
                form, "category_prefix", 32, "digits of a category code, or empty for all"
            ),
            area_code=f.text(form, "area_code", 32),
            target=f.text(form, "target", 32),
            co_targets="|".join(co),
            note=f.text(form, "note", 300),
            effective_from=f.effective_from(form, settings.tz, clock.now()),
        )
        add_rule(uow, clock, user.actor, rule)
    except DomainError as exc:
        return f.refused(request, user, uow, "routing", exc)
    return f.done(request, user, "routing", i18n.gettext(lang, "Routing rule added."), True)


@router.post("/admin/routing/retire")
def retire_routing_rule(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """Retire a rule from a date on; it stays in the history and in force before that date."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    try:
        rule_id = whole_number(f.text(form, "rule_id", 12), low=1)
        if rule_id is None:
            raise InvalidInput("rule_id: the number of the rule", details={"field": "rule_id"})
        since = f.effective_from(form, settings.tz, clock.now())
        retire_rule(uow, clock, user.actor, rule_id, since)
    except DomainError as exc:
        return f.refused(request, user, uow, "routing", exc)
    return f.done(request, user, "routing", i18n.gettext(lang, "Routing rule retired."), True)


@router.post("/admin/weights")
def add_weights(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """考评权重 for a unit kind from a month on; a month already frozen keeps its own policy."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    try:
        row = AssessmentPolicy(
            unit_kind=f.choice(form, "unit_kind", (ANY_KIND, *UNIT_KINDS)),
            effective_from=f.text(form, "effective_from", 7),
            min_cases=0,
        )
        for n in (
            "response_weight",
            "resolution_weight",
            "satisfaction_weight",
            "basically_factor",
            "partly_factor",
        ):
            setattr(row, n, f.decimal(form, n))
        row.min_cases = f.whole(form, "min_cases", 0, 100_000)
        add_weights_version(uow, clock, user.actor, row, settings.tz)
    except DomainError as exc:
        return f.refused(request, user, uow, "weights", exc)
    return f.done(request, user, "weights", i18n.gettext(lang, "Weights saved."), True)
