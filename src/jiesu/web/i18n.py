"""zh-CN first, English switchable: gettext catalogs (Babel .po files) and the labels of codes.

The .po files are read at start-up (Babel parses them in a few milliseconds), so no compile
step is needed to run from a checkout. Message ids are English; zh_CN translates every one
(tests/api/test_pages_i18n.py fails on a missing translation).
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

from jiesu.reasons import N_ as N_  # one marker for every catalogued string

LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("zh_CN", "en")
DEFAULT_LANG = "zh_CN"
LANG_COOKIE = "jiesu_lang"


@lru_cache(maxsize=len(LANGS))
def translations(lang: str) -> Translations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Translations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


STATUS = {
    "registered": N_("Registered"),
    "answered": N_("Answered"),
    "dispatched": N_("Dispatched"),
    "acknowledged": N_("Acknowledged"),
    "returned": N_("Returned"),
    "replied": N_("Replied"),
    "closed": N_("Closed"),
    "merged": N_("Merged"),
    "terminated": N_("Terminated"),
}
REQUEST_TYPE = {
    "inquiry": N_("Inquiry"),
    "help": N_("Help"),
    "complaint": N_("Complaint"),
    "report": N_("Report"),
    "suggestion": N_("Suggestion"),
}
URGENCY = {
    "urgent": N_("Urgent"),
    "prompt": N_("Prompt (utilities)"),
    "normal": N_("Normal"),
    "complex": N_("Complex"),
}
ACTION = {
    "register": N_("Registered the request"),
    "answer": N_("Answered at once"),
    "dispatch": N_("Dispatched to the handling unit"),
    "acknowledge": N_("Unit acknowledged receipt"),
    "contact": N_("Unit contacted the citizen"),
    "return": N_("Returned by the unit"),
    "approve_return": N_("Return approved"),
    "reject_return": N_("Return rejected"),
    "reassign": N_("Reassigned"),
    "whistle": N_("Co-handlers called in"),
    "accept_task": N_("Co-handler accepted"),
    "reply_task": N_("Co-handler replied"),
    "escalate": N_("Escalated"),
    "request_extension": N_("Extension requested"),
    "approve_extension": N_("Extension approved"),
    "reject_extension": N_("Extension rejected"),
    "reply": N_("Unit replied"),
    "callback": N_("Callback recorded"),
    "reopen": N_("Reopened"),
    "merge": N_("Merged into another case"),
    "terminate": N_("Terminated"),
    "request_exclusion": N_("Exclusion requested"),
    "approve_exclusion": N_("Exclusion approved"),
    "reject_exclusion": N_("Exclusion rejected"),
}
ROLE = {
    "citizen": N_("Citizen"),
    "agent": N_("Agent"),
    "dispatcher": N_("Dispatcher"),
    "handler": N_("Unit handler"),
    "callback": N_("Callback agent"),
    "leader": N_("Leader"),
    "analyst": N_("Analyst"),
    "admin": N_("Administrator"),
}
RESOLVED = {"yes": N_("Solved"), "partly": N_("Partly solved"), "no": N_("Not solved")}
SATISFACTION = {
    "satisfied": N_("Satisfied"),
    "basically": N_("Basically satisfied"),
    "dissatisfied": N_("Dissatisfied"),
}
ERROR = {
    "illegal_action": N_("This action is not possible for the case now."),
    "guard_failed": N_("A rule of the case does not allow this yet."),
    "stale_version": N_("Someone else changed the case meanwhile; reload and try again."),
    "invalid_input": N_("Please correct the input."),
    "not_found": N_("Not found."),
    "forbidden": N_("Your role may not do this."),
    "conflict": N_("The change conflicts with another one; reload and try again."),
}
