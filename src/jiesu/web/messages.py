"""Domain and validation errors as one sentence in the reader's language.

A page shows the kind of problem, then the precise reason translated: the field's name from
FIELDS, the reason from its message id and parameters (jiesu/reasons.py, translated through the
gettext catalogue) or, for an error raised with a fixed English sentence ("field: reason"), that
sentence looked up in the catalogue. A sentence nobody has translated yet keeps its English words
rather than disappear: knowing what to fix beats a fully Chinese but empty message.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from jiesu.errors import DomainError
from jiesu.reasons import MESSAGES, Reason
from jiesu.web import i18n
from jiesu.web.i18n import N_

FIELDS = {
    "text": N_("Request text"),
    "request_type": N_("Request type"),
    "category": N_("Category"),
    "urgency": N_("Urgency"),
    "street": N_("Street"),
    "district": N_("District"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "name": N_("Name"),
    "citizen": N_("Citizen"),
    "reason": N_("Reason"),
    "lead_unit": N_("Lead unit"),
    "co_units": N_("Co units"),
    "units": N_("Units"),
    "unit": N_("Unit"),
    "into": N_("Merge into case"),
    "due_hours": N_("Hours granted"),
    "hours": N_("Hours"),
    "username": N_("Username"),
    "password": N_("Password"),
    "role": N_("Role"),
    "day": N_("Day"),
    "kind": N_("Kind"),
    "photo": N_("Photo"),
    "effective_from": N_("Effective from"),
    "category_prefix": N_("Category prefix"),
    "target": N_("Target unit"),
    "area_code": N_("Area code"),
    "code": N_("Code"),
    "client": N_("Client"),
    "weights": N_("Weights"),
    "min_cases": N_("Minimum cases"),
    "month": N_("Month"),
    "csv": N_("CSV file"),
    "parent_code": N_("Parent code"),
    "livelihood_dimension": N_("Livelihood dimension"),
    "unit_kind": N_("Unit kind"),
    "note": N_("Note"),
    "co_targets": N_("Co units"),
    "response_weight": N_("Response weight"),
    "resolution_weight": N_("Resolution weight"),
    "satisfaction_weight": N_("Satisfaction weight"),
    "basically_factor": N_("Basically-satisfied factor"),
    "partly_factor": N_("Partly-solved factor"),
    "contact_value": N_("Contact limit"),
    "reply_value": N_("Reply limit"),
    "callback_value": N_("Callback limit"),
    "contact_unit": N_("Contact unit"),
    "reply_unit": N_("Reply unit"),
    "callback_unit": N_("Callback unit"),
    "contacted": N_("Contacted"),
    "resolved": N_("Resolved"),
    "satisfaction": N_("Satisfaction"),
}

# Fixed reasons of services raised as plain sentences (extracted for translation here).
REASONS = (
    N_("the lead unit cannot summon itself"),
    N_("a unit is named twice"),
    N_("only handlers belong to a unit"),
    N_("a handler needs the code of an existing unit"),
    N_("the case is already with this unit"),
    N_("the case has no reply time limit; give due_hours"),
    N_("the lead unit cannot also be a co unit"),
    N_("no such co-handling task for your unit"),
    N_("a number from 0 to 1"),
    N_("a new version starts now or later; history is never rewritten"),
    N_("digits of a category code, or empty for all"),
    N_("a unit code, @street or @district"),
    N_("a month like 2027-01"),
    N_("digits only, e.g. 050101"),
    N_("a level-1 category needs one"),
    N_("choose a CSV file"),
    N_("save the file as UTF-8"),
    N_("1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
)

# Pydantic error types → what the person should do.
VALIDATION = {
    "missing": N_("required"),
    "string_too_short": N_("too short"),
    "string_too_long": N_("too long"),
    "literal_error": N_("choose one of the offered values"),
    "enum": N_("choose one of the offered values"),
    "int_parsing": N_("give a whole number"),
    "float_parsing": N_("give a number"),
    "greater_than_equal": N_("too small"),
    "greater_than": N_("too small"),
    "less_than_equal": N_("too large"),
    "less_than": N_("too large"),
    "datetime_parsing": N_("give a date and time"),
    "date_from_datetime_parsing": N_("give a date"),
    "string_pattern_mismatch": N_("not in the expected form"),
    "value_error": N_("not valid"),
}


def _field(lang: str, name: str) -> str:
    label = FIELDS.get(name)
    return i18n.gettext(lang, label) if label else name


def reason(lang: str, text: str) -> str:
    """One fixed English reason in `lang`; untranslated reasons stay as they are."""
    text = text.strip()
    if not text:  # gettext("") is the catalog's header
        return text
    return i18n.gettext(lang, text)


def said(lang: str, why: Reason) -> str:
    """A catalogued reason in `lang`, its parameters put into the translated template."""
    return i18n.gettext(lang, MESSAGES[why.id]).format(**why.params)


def _sep(lang: str) -> str:
    return "；" if lang == "zh_CN" else "; "


def _split(message: str) -> tuple[str | None, str]:
    """'field: reason' → (field, reason); anything else has no field."""
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[a-z_][a-z0-9_.]*", head):
        return head, rest
    return None, message


def _domain(lang: str, exc: DomainError) -> str:
    if exc.reason is not None:
        name = exc.reason.params.get("field")
        text = said(lang, exc.reason)
        out = f"{_field(lang, str(name))}: {text}" if name else text
    else:
        field, text = _split(exc.message)
        out = f"{_field(lang, field)}: {reason(lang, text)}" if field else reason(lang, text)
    details: Any = exc.details
    if isinstance(details, dict) and "status" in details:
        status = i18n.STATUS.get(str(details["status"]), str(details["status"]))
        allowed = [
            i18n.gettext(lang, i18n.ACTION.get(a, a)) for a in details.get("allowed_actions") or []
        ]
        sep, gap = _sep(lang), "" if lang == "zh_CN" else " "
        out += sep + i18n.gettext(lang, "status now:") + gap + i18n.gettext(lang, status)
        if allowed:
            list_sep = "、" if lang == "zh_CN" else ", "
            out += sep + i18n.gettext(lang, "possible now:") + gap + list_sep.join(allowed)
    return out


def _validation(lang: str, exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if not isinstance(p, int)]
        name = _field(lang, loc[-1]) if loc else ""
        kind = VALIDATION.get(str(e.get("type", "")))
        limit = (e.get("ctx") or {}).get("max_length")
        if e.get("type") == "string_too_long" and limit is not None:
            text = said(lang, Reason("max_chars", {"limit": limit}))
        else:
            text = i18n.gettext(lang, kind) if kind else reason(lang, str(e.get("msg", "invalid")))
        parts.append(f"{name}: {text}" if name else text)
    return _sep(lang).join(parts)


def error_message(lang: str, exc: DomainError | ValidationError) -> str:
    """The translated kind of problem, then the precise reason, both in `lang`."""
    if isinstance(exc, ValidationError):
        invalid = i18n.ERROR["invalid_input"]
        head = i18n.gettext(lang, invalid)
        return f"{head} {_validation(lang, exc)}"
    kind = i18n.ERROR.get(exc.code)
    head = i18n.gettext(lang, kind) + " " if kind else ""
    return f"{head}{_domain(lang, exc)}"
