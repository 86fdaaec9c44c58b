"""管理员 console: every list (users, units, taxonomy, time limits, routing rules, weights,
holidays, Open311 keys, the change log) filters, sorts, pages and exports; users and the
calendar (through sla.service) are edited here, the policy tables in admin_policy and
admin_catalog."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Select, asc, desc, func, or_, select
from sqlalchemy.orm import Session

from jiesu.assessment.models import AssessmentPolicy
from jiesu.auth.models import User
from jiesu.auth.permissions import STAFF, Capability
from jiesu.auth.service import create_user
from jiesu.clock import Clock
from jiesu.errors import DomainError, InvalidInput
from jiesu.open311.models import Open311Client
from jiesu.routing.models import RoutingRule
from jiesu.settings import Settings
from jiesu.sla.models import CalendarDay, SlaPolicy
from jiesu.sla.service import remove_calendar_day, set_calendar_day
from jiesu.units.catalog import LIVELIHOOD_DIMENSIONS
from jiesu.units.models import UNIT_KINDS, Category, Unit
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.deps import ClockDep, SettingsDep, UowDep
from jiesu.web.models import AdminChange
from jiesu.web.pages import admin_forms
from jiesu.web.pages.admin_forms import record
from jiesu.web.pages.common import xlsx
from jiesu.web.render import render
from jiesu.web.session import PageUser, PageUserDep, PostingUserDep, require_page

router = APIRouter()
PAGE = 50
Q = Annotated[str, Query(max_length=100)]
# Each list: its model, the columns shown (and sortable), the columns the filter searches, and
# the default order (history lists show the newest version first).
LISTS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...], str]] = {
    "users": (
        User,
        ("username", "role", "unit_code", "display_name", "active"),
        ("username", "role", "unit_code", "display_name"),
        "username",
    ),
    "units": (
        Unit,
        ("code", "name", "kind", "parent_code", "active"),
        ("code", "name", "kind"),
        "code",
    ),
    "categories": (
        Category,
        ("code", "name", "level", "parent_code", "livelihood_dimension", "urgency", "active"),
        ("code", "name"),
        "code",
    ),
    "time_limits": (
        SlaPolicy,
        (
            "version",
            "effective_from",
            "request_type",
            "category_prefix",
            "urgency",
            "contact_value",
            "contact_unit",
            "reply_value",
            "reply_unit",
            "callback_value",
            "callback_unit",
        ),
        ("request_type", "category_prefix", "urgency"),
        "-version",
    ),
    "routing": (
        RoutingRule,
        ("id", "effective_from", "category_prefix", "area_code", "target", "co_targets", "note"),
        ("category_prefix", "area_code", "target", "note"),
        "-id",
    ),
    "weights": (
        AssessmentPolicy,
        (
            "effective_from",
            "unit_kind",
            "response_weight",
            "resolution_weight",
            "satisfaction_weight",
            "basically_factor",
            "partly_factor",
            "min_cases",
        ),
        ("unit_kind", "effective_from"),
        "-effective_from",
    ),
    "holidays": (CalendarDay, ("day", "kind", "name"), ("kind", "name"), "day"),
    "open311": (
        Open311Client,
        ("name", "created_at", "revoked_at"),
        ("name",),
        "name",
    ),
    "changes": (
        AdminChange,
        ("at", "actor", "kind", "subject", "detail"),
        ("actor", "kind", "subject", "detail"),
        "-at",
    ),
}
TABS = {
    "users": i18n.N_("Users and roles"),
    "units": i18n.N_("Units"),
    "categories": i18n.N_("Taxonomy"),
    "time_limits": i18n.N_("Time limits"),
    "routing": i18n.N_("Routing rules"),
    "weights": i18n.N_("Assessment weights"),
    "holidays": i18n.N_("Holiday calendar"),
    "open311": i18n.N_("Open311 keys"),
    "changes": i18n.N_("Change log"),
}

N_ = i18n.N_
COLUMNS = {
    "username": N_("Username"),
    "role": N_("Role"),
    "unit_code": N_("Unit code"),
    "display_name": N_("Display name"),
    "active": N_("Active"),
    "code": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "parent_code": N_("Parent code"),
    "level": N_("Level"),
    "livelihood_dimension": N_("Livelihood dimension"),
    "urgency": N_("Urgency"),
    "version": N_("Version"),
    "effective_from": N_("Effective from"),
    "request_type": N_("Request type"),
    "category_prefix": N_("Category prefix"),
    "contact_value": N_("Contact limit"),
    "contact_unit": N_("Contact unit"),
    "reply_value": N_("Reply limit"),
    "reply_unit": N_("Reply unit"),
    "callback_value": N_("Callback limit"),
    "callback_unit": N_("Callback unit"),
    "id": N_("No."),
    "area_code": N_("Area code"),
    "target": N_("Target unit"),
    "co_targets": N_("Co units"),
    "note": N_("Note"),
    "unit_kind": N_("Unit kind"),
    "response_weight": N_("Response weight"),
    "resolution_weight": N_("Resolution weight"),
    "satisfaction_weight": N_("Satisfaction weight"),
    "basically_factor": N_("Basically-satisfied factor"),
    "partly_factor": N_("Partly-solved factor"),
    "min_cases": N_("Minimum cases"),
    "day": N_("Day"),
    "created_at": N_("Created"),
    "revoked_at": N_("Revoked"),
    "at": N_("Time"),
    "actor": N_("By"),
    "subject": N_("Change"),
    "detail": N_("Detail"),
}

TIME_UNITS = {"hours": N_("hours"), "workdays": N_("working days")}
# Codes in a cell shown by their label (the filter and the export keep the codes).
VALUES = {
    "request_type": i18n.REQUEST_TYPE,
    "urgency": i18n.URGENCY,
    "role": i18n.ROLE,
    "contact_unit": TIME_UNITS,
    "reply_unit": TIME_UNITS,
    "callback_unit": TIME_UNITS,
}


def _query(kind: str, q: str, sort: str) -> Select[Any]:
    model, columns, searched, default = LISTS[kind]
    stmt = select(model)
    if q:
        stmt = stmt.where(or_(*[getattr(model, c).contains(q, autoescape=True) for c in searched]))
    sort = sort or default
    name = sort.lstrip("-")
    column = getattr(model, name if name in columns else columns[0])
    return stmt.order_by(desc(column) if sort.startswith("-") else asc(column))


def category_options(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(Category.code, Category.name, Category.level)
        .where(Category.level < 3)
        .order_by(Category.code)
    ).all()
    return [(c, n, lv) for c, n, lv in rows]


def admin_response(
    request: Request,
    user: PageUser,
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    kind: str,
    q: str = "",
    sort: str = "",
    page: int = 1,
    **extra: Any,
) -> Response:
    require_page(user, Capability.ADMINISTER)
    stmt = _query(kind, q.strip(), sort)
    s = uow.session
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = s.scalars(stmt.offset((page - 1) * PAGE).limit(PAGE)).all()
    units = s.execute(select(Unit.code, Unit.name).order_by(Unit.code)).all()
    return render(
        request,
        "admin.html",
        user,
        kind=kind,
        tabs=TABS,
        labels=COLUMNS,
        value_labels=VALUES,
        columns=LISTS[kind][1],
        rows=rows,
        total=total or 0,
        page=page,
        pages=max(1, -(-(total or 0) // PAGE)),
        q=q,
        sort=sort,
        roles=[r.value for r in STAFF],
        units=units,
        unit_kinds=("*", *UNIT_KINDS),
        dimensions=sorted(LIVELIHOOD_DIMENSIONS),
        categories=category_options(s) if kind == "categories" else [],
        this_month=clock.now().astimezone(settings.tz).strftime("%Y-%m"),
        **extra,
    )


@router.get("/admin")
def admin_page(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
    list_: Annotated[str, Query(alias="list", max_length=20)] = "users",
    q: Q = "",
    sort: Q = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    kind = list_ if list_ in LISTS else "users"
    return admin_response(request, user, uow, clock, settings, kind, q, sort, page)


@router.get("/admin/export")
def export(
    user: PageUserDep,
    uow: UowDep,
    list_: Annotated[str, Query(alias="list", max_length=20)] = "users",
    q: Q = "",
    sort: Q = "",
) -> Response:
    require_page(user, Capability.ADMINISTER)
    kind = list_ if list_ in LISTS else "users"
    columns = LISTS[kind][1]
    rows = uow.session.scalars(_query(kind, q.strip(), sort).limit(100_000)).all()
    return xlsx(kind, columns, [[_cell(getattr(r, c)) for c in columns] for r in rows])


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


_done = admin_forms.done


# A refused write rolls the request's unit of work back: nothing of it is kept.


@router.post("/admin/users")
def add_user(request: Request, user: PostingUserDep, uow: UowDep, clock: ClockDep) -> Response:
    require_page(user, Capability.ADMINISTER)
    f, lang = user.form, i18n.lang_of(request)
    username = f.get("username", "").strip()[:80]
    try:
        create_user(
            uow.session,
            username=username,
            password=f.get("password", ""),
            role=f.get("role", ""),
            unit_code=f.get("unit_code", "").strip() or None,
            now=clock.now(),
            display_name=f.get("display_name", "").strip()[:100],
        )
        record(uow.session, user, clock.now(), "users", f"create {username}")
        uow.commit()
    except DomainError as exc:
        return admin_forms.refused(request, user, uow, "users", exc)
    return _done(request, user, "users", i18n.gettext(lang, "User created."), True)


@router.post("/admin/users/{username}/active")
def set_active(
    request: Request, username: str, user: PostingUserDep, uow: UowDep, clock: ClockDep
) -> Response:
    require_page(user, Capability.ADMINISTER)
    lang = i18n.lang_of(request)
    active = user.form.get("active") == "1"
    if username == user.actor.username and not active:
        uow.rollback()
        msg = i18n.gettext(lang, "You cannot deactivate yourself.")
        return _done(request, user, "users", msg, False)
    row = uow.session.scalar(select(User).where(User.username == username))
    if row is None:
        uow.rollback()
        return _done(request, user, "users", i18n.gettext(lang, "Not found."), False)
    row.active = active
    what = "activate" if active else "deactivate"
    record(uow.session, user, clock.now(), "users", f"{what} {username}")
    uow.commit()
    msg = (
        i18n.gettext(lang, "User activated.") if active else i18n.gettext(lang, "User deactivated.")
    )
    return _done(request, user, "users", msg, True)


@router.post("/admin/holidays")
def add_day(request: Request, user: PostingUserDep, uow: UowDep, clock: ClockDep) -> Response:
    """A public holiday or a make-up workday (调休); the calendar's own service writes it."""
    require_page(user, Capability.ADMINISTER)
    form, lang = user.form, i18n.lang_of(request)
    try:
        day = _day(form.get("day", ""))
        kind, name = form.get("kind", "").strip(), form.get("name", "").strip()
        set_calendar_day(uow, clock, user.actor, day, kind, name)
    except DomainError as exc:
        return admin_forms.refused(request, user, uow, "holidays", exc)
    return _done(request, user, "holidays", i18n.gettext(lang, "Calendar day saved."), True)


@router.post("/admin/holidays/{day}/delete")
def remove_day(
    request: Request, day: str, user: PostingUserDep, uow: UowDep, clock: ClockDep
) -> Response:
    require_page(user, Capability.ADMINISTER)
    lang = i18n.lang_of(request)
    try:
        remove_calendar_day(uow, clock, user.actor, _day(day))
    except DomainError as exc:
        return admin_forms.refused(request, user, uow, "holidays", exc)
    return _done(request, user, "holidays", i18n.gettext(lang, "Calendar day removed."), True)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput.of("not_a_date", field="day", value=value) from None
