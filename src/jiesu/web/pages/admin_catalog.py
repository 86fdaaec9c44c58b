"""管理员: the taxonomy (事项分类) and Open311 api keys, edited in place with a change log.

Categories are never deleted (cases point at them): they are renamed or deactivated, and a
deactivated one is no longer offered at intake. Open311 keys: the key is shown once, on the
answer to the POST that created it, and only its digest is stored (jiesu.open311.keys).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from jiesu.auth.permissions import Capability
from jiesu.clock import Clock
from jiesu.errors import DomainError, InvalidInput, NotFound
from jiesu.open311.keys import create_key, revoke_key
from jiesu.units.catalog import LIVELIHOOD_DIMENSIONS, CatalogError, parse_categories_csv
from jiesu.units.models import Category
from jiesu.units.service import upsert_categories
from jiesu.uow import UnitOfWork
from jiesu.web import i18n
from jiesu.web.deps import ClockDep, SettingsDep, UowDep
from jiesu.web.pages import admin_forms as f
from jiesu.web.pages.admin import admin_response
from jiesu.web.session import PageUser, PostingUserDep, require_page

router = APIRouter()
Code = Annotated[str, Path(max_length=32, pattern=r"^\d+$")]
CSV_MAX_BYTES = 2 * 1024 * 1024


@router.post("/admin/categories")
def add_category(request: Request, user: PostingUserDep, uow: UowDep, clock: ClockDep) -> Response:
    require_page(user, Capability.ADMINISTER)
    form, lang, s = user.form, i18n.lang_of(request), uow.session
    try:
        code, name = f.code(form, "code", 32), f.text(form, "name", 200)
        parent_code = f.text(form, "parent_code", 32) or None
        if not code:
            raise InvalidInput("code: digits only, e.g. 050101", details={"field": "code"})
        if not name:
            raise InvalidInput("name: required", details={"field": "name"})
        if s.get(Category, code) is not None:
            raise InvalidInput.of("taken", field="code", value=code)
        parent = s.get(Category, parent_code) if parent_code else None
        if parent_code and parent is None:
            raise InvalidInput.of("unknown_category", field="parent_code", category=parent_code)
        if parent is not None and (parent.level >= 3 or not code.startswith(parent.code)):
            raise InvalidInput.of("extend_parent_code", field="code", parent=parent.code)
        dim = form.get("livelihood_dimension", "").strip()
        if parent is None and dim not in LIVELIHOOD_DIMENSIONS:
            raise InvalidInput(
                "livelihood_dimension: a level-1 category needs one",
                details={"field": "livelihood_dimension"},
            )
        s.add(
            Category(
                code=code,
                name=name,
                level=parent.level + 1 if parent else 1,
                parent_code=parent.code if parent else None,
                livelihood_dimension=dim or (parent.livelihood_dimension if parent else ""),
                urgency=f.choice(form, "urgency", ("", "urgent", "prompt")),
                active=True,
            )
        )
        f.record(s, user, clock.now(), "categories", f"add {code}", name)
        uow.commit()
    except DomainError as exc:
        return f.refused(request, user, uow, "categories", exc)
    return f.done(request, user, "categories", i18n.gettext(lang, "Category added."), True)


@router.post("/admin/categories/{code}")
def change_category(
    request: Request, code: Code, user: PostingUserDep, uow: UowDep, clock: ClockDep
) -> Response:
    """Rename (field `name`) or (de)activate (field `active` = 1 / 0) one category."""
    require_page(user, Capability.ADMINISTER)
    form, lang, s, now = user.form, i18n.lang_of(request), uow.session, clock.now()
    try:
        cat = s.get(Category, code)
        if cat is None:
            raise NotFound.of("category_not_found", category=code)
        if "name" in form:
            name = f.text(form, "name", 200)
            if not name:
                raise InvalidInput("name: required", details={"field": "name"})
            f.record(s, user, now, "categories", f"rename {code}", f"{cat.name} → {name}")
            cat.name = name
        if "active" in form:
            cat.active = form["active"] == "1"
            what = "activate" if cat.active else "deactivate"
            f.record(s, user, now, "categories", f"{what} {code}", cat.name)
        uow.commit()
    except DomainError as exc:
        return f.refused(request, user, uow, "categories", exc)
    return f.done(request, user, "categories", i18n.gettext(lang, "Category saved."), True)


@router.post("/admin/categories-import")
async def import_categories(
    request: Request, user: PostingUserDep, uow: UowDep, clock: ClockDep
) -> Response:
    """A whole taxonomy as CSV (code,name,level,parent_code,livelihood_dimension,urgency):
    checked completely first, then written in one transaction, so a bad line changes nothing."""
    require_page(user, Capability.ADMINISTER)
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("csv")
    data = b""
    if isinstance(upload, UploadFile):
        data = await upload.read(CSV_MAX_BYTES + 1)
    await form.close()
    # Parsing and writing go to a worker thread; the unit of work is the request's own.
    return await run_in_threadpool(_import, request, user, uow, clock, data)


def _import(
    request: Request, user: PageUser, uow: UnitOfWork, clock: Clock, data: bytes
) -> Response:
    lang = i18n.lang_of(request)
    try:
        if not data:
            raise InvalidInput("csv: choose a CSV file", details={"field": "csv"})
        if len(data) > CSV_MAX_BYTES:
            raise InvalidInput.of("max_megabytes", field="csv", limit=CSV_MAX_BYTES >> 20)
        try:
            rows = parse_categories_csv(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InvalidInput("csv: save the file as UTF-8", details={"field": "csv"}) from None
        except CatalogError as exc:
            raise InvalidInput(f"csv: {exc}", details={"field": "csv"}) from None
        count = upsert_categories(uow.session, rows)
        f.record(uow.session, user, clock.now(), "categories", "import CSV", f"{count} rows")
        uow.commit()
    except DomainError as exc:
        return f.refused(request, user, uow, "categories", exc)
    msg = i18n.gettext(lang, "Categories imported: %(n)s.") % {"n": count}
    return f.done(request, user, "categories", msg, True)


@router.post("/admin/open311")
def new_key(
    request: Request,
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """Creates a client's key and shows it on this answer only (never in a redirect/cookie)."""
    require_page(user, Capability.ADMINISTER)
    now = clock.now()
    client = user.form.get("client", "").strip()
    try:
        key = create_key(uow.session, client, now)
        f.record(uow.session, user, now, "open311", f"key for {client}")
        uow.commit()
    except DomainError as exc:
        return f.refused(request, user, uow, "open311", exc)
    # The list is read after the commit, so it shows the new client.
    response = admin_response(request, user, uow, clock, settings, "open311", new_key=(client, key))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/open311/{client}/revoke")
def revoke(
    request: Request,
    client: Annotated[str, Path(max_length=64)],
    user: PostingUserDep,
    uow: UowDep,
    clock: ClockDep,
) -> Response:
    require_page(user, Capability.ADMINISTER)
    lang, now = i18n.lang_of(request), clock.now()
    try:
        revoke_key(uow.session, client, now)
        f.record(uow.session, user, now, "open311", f"revoke {client}")
        uow.commit()
    except DomainError as exc:
        return f.refused(request, user, uow, "open311", exc)
    return f.done(request, user, "open311", i18n.gettext(lang, "Key revoked."), True)
