"""What the admin forms share: reading fields, the change log, the answer after a POST."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from jiesu.changelog import record_change
from jiesu.errors import DomainError, InvalidInput
from jiesu.inputs import digits, whole_number
from jiesu.uow import UnitOfWork
from jiesu.web import flash, i18n
from jiesu.web.messages import error_message
from jiesu.web.pages.common import with_query
from jiesu.web.session import PageUser

# A new version may start a little in the past (the form was open a while), never earlier:
# cases keep the policy version they were computed with, and history is not rewritten.
GRACE = timedelta(minutes=10)


def done(request: Request, user: PageUser, kind: str, message: str, ok: bool) -> Response:
    url = with_query("/admin", list=kind)
    return flash.redirect(request, url, user.csrf, **{"ok" if ok else "error": message})


def refused(
    request: Request, user: PageUser, uow: UnitOfWork, kind: str, exc: DomainError
) -> Response:
    """A refused admin form: nothing of the request's unit of work is kept, and the list it
    came from says why, in the reader's language."""
    uow.rollback()
    return done(request, user, kind, error_message(i18n.lang_of(request), exc), False)


def record(
    session: Session, user: PageUser, now: datetime, kind: str, subject: str, detail: str = ""
) -> None:
    """One row of the change log, in the same transaction as the change itself."""
    record_change(session, user.actor, now, kind, subject, detail)


def text(form: dict[str, str], name: str, limit: int) -> str:
    value = form.get(name, "").strip()
    if len(value) > limit:
        raise InvalidInput.of("max_chars", field=name, limit=limit)
    return value


def whole(form: dict[str, str], name: str, low: int, high: int) -> int:
    number = whole_number(form.get(name, ""), low=low, high=high)
    if number is None:
        raise InvalidInput.of("whole_number", field=name, low=low, high=high)
    return number


def code(
    form: dict[str, str], name: str, limit: int, hint: str = "digits only, e.g. 050101"
) -> str:
    """A code of digits (category codes, their prefixes), as ASCII; "" when left empty.
    Full-width digits read as ASCII ones; `²` and other non-decimals are refused."""
    raw = text(form, name, limit)
    ascii_digits = digits(raw) if raw else ""
    if ascii_digits is None:
        raise InvalidInput(f"{name}: {hint}", details={"field": name})
    return ascii_digits


def decimal(form: dict[str, str], name: str) -> Decimal:
    raw = form.get(name, "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{name}: a number from 0 to 1", details={"field": name}) from None
    if not Decimal(0) <= value <= Decimal(1) or value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidInput(f"{name}: a number from 0 to 1", details={"field": name})
    return value


def choice(form: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = form.get(name, "").strip()
    if value not in allowed:
        choices = ", ".join(a or "(any)" for a in allowed)
        raise InvalidInput.of("choose_one", field=name, choices=choices)
    return value


def effective_from(form: dict[str, str], tz: ZoneInfo, now: datetime) -> datetime:
    """The form's local date and time (empty: now) as UTC; never before now."""
    raw = form.get("effective_from", "").strip()
    if not raw:
        return now
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput.of("not_a_datetime", field="effective_from", value=raw) from None
    when = local.replace(tzinfo=tz) if local.tzinfo is None else local
    if when < now - GRACE:
        raise InvalidInput(
            "effective_from: a new version starts now or later; history is never rewritten",
            details={"field": "effective_from"},
        )
    return max(when, now)
