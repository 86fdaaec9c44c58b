"""The cockpit's governance panels — hot topics, surge alerts, monthly-topic candidates — read
from the month's summary file (jiesu.governance.summary), never computed per page view; and a
read-only case page for the leader, where a hot topic's example cases link to."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from jiesu.auth.permissions import Capability
from jiesu.cases import queries
from jiesu.cases.schemas import MAX_ID
from jiesu.errors import NotFound
from jiesu.governance.summary import UnreadableSummary, lake_refreshed_at, read_summary
from jiesu.web import i18n
from jiesu.web.deps import ClockDep, UowDep
from jiesu.web.i18n import N_
from jiesu.web.org import load_org
from jiesu.web.render import render
from jiesu.web.session import PageUserDep, require_page

router = APIRouter()

# Why a section could not be computed, as the governance modules word it → the catalog.
REASONS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^forecasts need at least (?P<n>\d+) full weeks of history, the lake has "),
        N_("forecasts need at least %(n)s full weeks of history; the lake does not have them yet"),
    ),
    (
        re.compile(r"^the lake has no cases with a category and a district"),
        N_("the lake has no cases with a category and a district"),
    ),
    (re.compile(r"^the analytics lake is empty"), N_("the analytics lake is empty")),
]


def reason(lang: str, text: str) -> str:
    for pattern, template in REASONS:
        m = pattern.match(text)
        if m:
            return i18n.gettext(lang, template) % m.groupdict()
    return text  # a reason nobody has translated yet keeps its English words


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _section(body: dict[str, Any], name: str, lang: str) -> dict[str, Any]:
    section = dict(body[name])
    if section.get("failed"):
        failed = N_("the computation failed; the summarise command printed why")
        section["error"] = i18n.gettext(lang, failed)
    elif "error" in section:
        section["error"] = reason(lang, section["error"])
    return section


def panels(lake: Path, month: str, lang: str) -> dict[str, Any]:
    """What the template needs: the state (missing | unreadable | ready), the command that fills
    the summary, and the three sections with their times parsed."""
    command = f"jiesu governance summarise --month {month}"
    try:
        body = read_summary(lake, month)
    except UnreadableSummary:
        return {"state": "unreadable", "command": command}
    if body is None:
        return {"state": "missing", "command": command}
    topics = _section(body, "topics", lang)
    topics["items"] = [
        {
            **t,
            "start": _at(t["time_range"][0]),
            "end": _at(t["time_range"][1]),
            "samples": [{**s, "at": _at(s["at"])} for s in t["samples"]],
        }
        for t in topics.get("items", [])
    ]
    refreshed = lake_refreshed_at(lake)
    return {
        "state": "ready",
        "command": command,
        "computed_at": _at(body["computed_at"]),
        # The lake was refreshed after the summary: new cases are not in it yet.
        "stale": refreshed is not None and refreshed != body.get("lake_refreshed_at"),
        "topics": topics,
        "surges": _section(body, "surges", lang),
        "candidates": _section(body, "candidates", lang),
    }


@router.get("/cockpit/case/{case_id}")
def cockpit_case(
    request: Request,
    user: PageUserDep,
    uow: UowDep,
    clock: ClockDep,
    case_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
    month: Annotated[str | None, Query(max_length=7, pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response:
    """One case, read-only, for the leader following a hot topic's evidence."""
    require_page(user, Capability.READ_GOVERNANCE)
    org = load_org(uow.session)
    try:
        case = queries.get_case(uow.session, user.actor, case_id, clock.now())
    except NotFound:
        lang = i18n.lang_of(request)
        msg = i18n.gettext(lang, "Case %(id)s is not in the operational database.") % {
            "id": case_id
        }
        return render(request, "refused.html", user, 404, message=msg)
    events = queries.list_events(uow.session, user.actor, case_id)
    return render(request, "cockpit_case.html", user, c=case, events=events, org=org, month=month)
