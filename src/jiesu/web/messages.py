"""Domain and validation errors as one sentence in the reader's language.

Services speak English ("field: reason", for API clients and logs). A page shows the kind of
problem, then the precise reason translated: the field's name from FIELDS, the reason from the
catalog (fixed sentences) or from PATTERNS (sentences with a value in them). A reason nobody
has translated yet keeps its English words rather than disappear: knowing what to fix beats a
fully Chinese but empty message; test_pages_i18n checks the common ones are covered.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from jiesu.errors import DomainError
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

# Reasons with a value inside: English regex → translated template with the same names.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^unknown unit code '(?P<code>[^']*)'"), N_("unknown unit code '%(code)s'")),
    (
        re.compile(r"^unknown category code '(?P<code>[^']*)'"),
        N_("unknown category code '%(code)s'"),
    ),
    (re.compile(r"^'(?P<value>[^']*)' is taken"), N_("'%(value)s' is already taken")),
    (re.compile(r"^at least (?P<n>\d+) characters"), N_("at least %(n)s characters")),
    (re.compile(r"^at most (?P<n>\d+)"), N_("at most %(n)s")),
    (re.compile(r"^give a timezone"), N_("give a time with its zone")),
    (re.compile(r"^case (?P<id>\d+) does not exist"), N_("case %(id)s does not exist")),
    (
        re.compile(r"^case (?P<id>\d+) is (?P<status>\w+) and cannot take merges"),
        N_("case %(id)s cannot take merges in its present status"),
    ),
    (re.compile(r"^case (?P<id>\d+) not found"), N_("case %(id)s not found")),
    (
        re.compile(r"^(?P<units>.+) already have an open task on this case"),
        N_("%(units)s already have an open task on this case"),
    ),
    (re.compile(r"^'(?P<value>[^']*)' is not a date"), N_("'%(value)s' is not a date")),
    (
        re.compile(r"^\w+ is not allowed for \w+ on a \w+ case"),
        N_("this action is not possible for your role in the case's present status"),
    ),
    (re.compile(r"^exclusion is already (?P<state>\w+)"), N_("exclusion is already requested")),
    (
        re.compile(r"^a whole number from (?P<low>\d+) to (?P<high>\d+)"),
        N_("a whole number from %(low)s to %(high)s"),
    ),
    (re.compile(r"^choose one of "), N_("choose one of the offered values")),
    (
        re.compile(r"^no category code starts with '(?P<prefix>[^']*)'"),
        N_("no category code starts with '%(prefix)s'"),
    ),
    (
        re.compile(r"^weights for (?P<kind>\S+) from (?P<month>\S+) exist"),
        N_("weights for %(kind)s from %(month)s exist; choose a later month"),
    ),
    (
        re.compile(r"^weights must sum to 1, not (?P<total>[\d.]+)"),
        N_("the three weights must sum to 1, not %(total)s"),
    ),
    (
        re.compile(r"^must extend its parent's code (?P<code>\d+)"),
        N_("must extend its parent's code %(code)s (three levels at most)"),
    ),
    (re.compile(r"^category (?P<code>\d+) not found"), N_("category %(code)s not found")),
    (
        re.compile(r"^client '(?P<client>[^']*)' already has a live key"),
        N_("client '%(client)s' already has a live key; revoke it first"),
    ),
    (
        re.compile(r"^no Open311 client named '(?P<client>[^']*)'"),
        N_("no Open311 client named '%(client)s'"),
    ),
]

# Fixed reasons from the workflow guards and services (extracted for translation here).
REASONS = (
    N_("only the lead unit may do this; co-handlers reply through their tasks"),
    N_("record contact with the citizen (contact) before replying"),
    N_("an extension request is already waiting for review"),
    N_("there is no extension request to review"),
    N_("there is no exclusion request"),
    N_("your unit has no pending co-handling task to accept"),
    N_("your unit has no accepted co-handling task to reply to"),
    N_("the case is already at city coordination level"),
    N_("the case has no lead unit to reopen it with"),
    N_("the lead unit cannot summon itself"),
    N_("a unit is named twice"),
    N_("only handlers belong to a unit"),
    N_("a handler needs the code of an existing unit"),
    N_("the case is already with this unit"),
    N_("a case cannot be merged into itself"),
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
    """One English reason in `lang`; unknown reasons stay as they are."""
    text = text.strip()
    if not text:  # gettext("") is the catalog's header
        return text
    translated = i18n.gettext(lang, text)
    if translated != text:
        return translated
    for pattern, template in PATTERNS:
        m = pattern.match(text)
        if m:
            return i18n.gettext(lang, template) % m.groupdict()
    return text


def _sep(lang: str) -> str:
    return "；" if lang == "zh_CN" else "; "


def _split(message: str) -> tuple[str | None, str]:
    """'field: reason' → (field, reason); anything else has no field."""
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[a-z_][a-z0-9_.]*", head):
        return head, rest
    return None, message


def _domain(lang: str, exc: DomainError) -> str:
    field, text = _split(exc.message)
    # Messages that carry a pointer to the API docs keep only the reason for a page.
    text = re.sub(r"\s*\((see|GET) [^)]*\)", "", text)
    said = reason(lang, text)
    out = f"{_field(lang, field)}: {said}" if field else said
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
        said = i18n.gettext(lang, kind) if kind else reason(lang, str(e.get("msg", "invalid")))
        parts.append(f"{name}: {said}" if name else said)
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
