"""管理员 console: users and roles, units, holidays; lists filter, sort, page, export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Select, asc, delete, desc, func, or_, select

from jiesu.auth.models import User
from jiesu.auth.service import create_user
from jiesu.cases.workflow import Role
from jiesu.errors import DomainError, InvalidInput
from jiesu.sla.models import CalendarDay
from jiesu.units.models import Unit
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.pages.common import with_query, xlsx
from jiesu.web.render import error_message, render
from jiesu.web.session import PageUser, page_user, posting_user, require_role

router = APIRouter()
ROLES = (Role.ADMIN,)
PAGE = 50
Q = Annotated[str, Query(max_length=100)]
# Each list: its model, the columns shown (and sortable), and the columns the filter searches.
LISTS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "users": (
        User,
        ("username", "role", "unit_code", "display_name", "active"),
        ("username", "role", "unit_code", "display_name"),
    ),
    "units": (Unit, ("code", "name", "kind", "parent_code", "active"), ("code", "name", "kind")),
    "holidays": (CalendarDay, ("day", "kind", "name"), ("kind", "name")),
}


def _query(kind: str, q: str, sort: str) -> Select[Any]:
    model, columns, searched = LISTS[kind]
    stmt = select(model)
    if q:
        stmt = stmt.where(or_(*[getattr(model, c).contains(q, autoescape=True) for c in searched]))
    name = sort.lstrip("-")
    column = getattr(model, name if name in columns else columns[0])
    return stmt.order_by(desc(column) if sort.startswith("-") else asc(column))


@router.get("/admin")
def admin_page(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    list_: Annotated[str, Query(alias="list", max_length=20)] = "users",
    q: Q = "",
    sort: Q = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    require_role(user, *ROLES)
    kind = list_ if list_ in LISTS else "users"
    stmt = _query(kind, q.strip(), sort)
    with UnitOfWork(request.app.state.session_factory) as uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = uow.session.scalars(stmt.offset((page - 1) * PAGE).limit(PAGE)).all()
        units = uow.session.execute(select(Unit.code, Unit.name).order_by(Unit.code)).all()
    return render(
        request,
        "admin.html",
        user,
        kind=kind,
        columns=LISTS[kind][1],
        rows=rows,
        total=total or 0,
        page=page,
        pages=max(1, -(-(total or 0) // PAGE)),
        q=q,
        sort=sort,
        roles=[r.value for r in Role if r is not Role.CITIZEN],
        units=units,
    )


@router.get("/admin/export")
def export(
    request: Request,
    user: Annotated[PageUser, Depends(page_user)],
    list_: Annotated[str, Query(alias="list", max_length=20)] = "users",
    q: Q = "",
    sort: Q = "",
) -> Response:
    require_role(user, *ROLES)
    kind = list_ if list_ in LISTS else "users"
    columns = LISTS[kind][1]
    with UnitOfWork(request.app.state.session_factory) as uow:
        rows = uow.session.scalars(_query(kind, q.strip(), sort).limit(100_000)).all()
    return xlsx(kind, columns, [[_cell(getattr(r, c)) for c in columns] for r in rows])


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _done(request: Request, kind: str, message: str, ok: bool) -> Response:
    key = "ok" if ok else "error"
    return RedirectResponse(with_query("/admin", list=kind, **{key: message}), 303)


@router.post("/admin/users")
def add_user(request: Request, user: Annotated[PageUser, Depends(posting_user)]) -> Response:
    require_role(user, *ROLES)
    f, lang = user.form, i18n.lang_of(request)
    try:
        with UnitOfWork(request.app.state.session_factory) as uow:
            create_user(
                uow.session,
                username=f.get("username", "").strip()[:80],
                password=f.get("password", ""),
                role=f.get("role", ""),
                unit_code=f.get("unit_code", "").strip() or None,
                now=request.app.state.clock.now(),
                display_name=f.get("display_name", "").strip()[:100],
            )
            uow.commit()
    except DomainError as exc:
        return _done(request, "users", error_message(lang, exc), False)
    return _done(request, "users", i18n.gettext(lang, "User created."), True)


@router.post("/admin/users/{username}/active")
def set_active(
    request: Request, username: str, user: Annotated[PageUser, Depends(posting_user)]
) -> Response:
    require_role(user, *ROLES)
    lang = i18n.lang_of(request)
    active = user.form.get("active") == "1"
    if username == user.actor.username and not active:
        return _done(request, "users", i18n.gettext(lang, "You cannot deactivate yourself."), False)
    with UnitOfWork(request.app.state.session_factory) as uow:
        row = uow.session.scalar(select(User).where(User.username == username))
        if row is None:
            return _done(request, "users", i18n.gettext(lang, "Not found."), False)
        row.active = active
        uow.commit()
    msg = (
        i18n.gettext(lang, "User activated.") if active else i18n.gettext(lang, "User deactivated.")
    )
    return _done(request, "users", msg, True)


@router.post("/admin/holidays")
def add_day(request: Request, user: Annotated[PageUser, Depends(posting_user)]) -> Response:
    require_role(user, *ROLES)
    f, lang = user.form, i18n.lang_of(request)
    try:
        day = _day(f.get("day", ""))
        kind = f.get("kind", "")
        if kind not in ("holiday", "workday"):
            raise InvalidInput("kind: holiday or workday")
        with UnitOfWork(request.app.state.session_factory) as uow:
            existing = uow.session.get(CalendarDay, day)
            if existing is None:
                uow.session.add(CalendarDay(day=day, kind=kind, name=f.get("name", "")[:50]))
            else:
                existing.kind, existing.name = kind, f.get("name", "")[:50]
            uow.commit()
    except DomainError as exc:
        return _done(request, "holidays", error_message(lang, exc), False)
    return _done(request, "holidays", i18n.gettext(lang, "Calendar day saved."), True)


@router.post("/admin/holidays/{day}/delete")
def remove_day(
    request: Request, day: str, user: Annotated[PageUser, Depends(posting_user)]
) -> Response:
    require_role(user, *ROLES)
    lang = i18n.lang_of(request)
    try:
        parsed = _day(day)
    except DomainError as exc:
        return _done(request, "holidays", error_message(lang, exc), False)
    with UnitOfWork(request.app.state.session_factory) as uow:
        uow.session.execute(delete(CalendarDay).where(CalendarDay.day == parsed))
        uow.commit()
    return _done(request, "holidays", i18n.gettext(lang, "Calendar day removed."), True)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"day: '{value}' is not a date like 2026-10-01") from None
