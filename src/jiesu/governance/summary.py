"""Governance summaries that the leader cockpit reads: hot topics (热点问题), surge alerts
(突增预警) and monthly-topic candidates (每月一题候选), one small JSON file per month under the
analytics lake, `<lake>/_governance/<YYYY-MM>.json`.

Clustering a month's messages takes seconds to minutes, the surge check scans every week of the
lake and the candidates a year of cases: far too slow for a page view over a 100M-case lake. So,
as zulip's analytics does with its summary tables, an explicit command
(`jiesu governance summarise`, run after `jiesu analytics refresh`) computes them once with the
existing algorithms (topics.py, surges.py, candidates.py) and writes a file of a few KB; the page
only reads it, cached by the file's modification time. A section the lake cannot support yet
(fewer than 8 weeks of history for a forecast) is stored with its reason, so the page can say
why it is empty instead of showing nothing.
"""

from __future__ import annotations

import calendar
import json
import os
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jiesu.analytics.lake import LakeState, check_month
from jiesu.errors import DomainError, InvalidInput, NotFound
from jiesu.privacy.redact import redact

FORMAT = 1
FOLDER = "_governance"
SAMPLES = 5
TOPICS = 10
CANDIDATES = 10
SECTIONS = ("topics", "surges", "candidates")


def summary_path(lake: Path, month: str) -> Path:
    return lake / FOLDER / f"{_month(month)}.json"


def _month(month: str) -> str:
    try:
        return check_month(month)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def default_months(now: datetime, tz: ZoneInfo) -> list[str]:
    """The month before and this one: the first days of a month still complete the last
    weeks of the one before."""
    local = now.astimezone(tz)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return [f"{year:04d}-{month:02d}", f"{local.year:04d}-{local.month:02d}"]


def lake_refreshed_at(lake: Path) -> str | None:
    """When the lake was last refreshed (None for a lake without state)."""
    return LakeState.load(lake).refreshed_at if (lake / "_state.json").exists() else None


def summarise(
    lake: Path,
    month: str,
    tz: ZoneInfo,
    now: datetime,
    *,
    topics: int = TOPICS,
    candidates: int = CANDIDATES,
    samples: int = SAMPLES,
    method: str = "snaive_drift",
    min_cases: int | None = None,
) -> dict[str, Any]:
    """The month's three sections; each is `{"items": [...], ...}` or `{"error": reason}`
    (with `"failed": true` when the computation broke rather than the lake lacking data)."""
    from jiesu.governance.surges import MIN_CASES

    _month(month)
    if not (lake / "_state.json").exists():
        raise NotFound("the analytics lake is empty; run `jiesu analytics refresh`")
    body: dict[str, Any] = {
        "format": FORMAT,
        "month": month,
        "computed_at": now.isoformat(),
        "lake_refreshed_at": lake_refreshed_at(lake),
        "seconds": {},
    }
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "topics": lambda: _topics(lake, month, topics, samples),
        "surges": lambda: _surges(lake, month, tz, method, min_cases or MIN_CASES),
        "candidates": lambda: _candidates(lake, month, candidates),
    }
    for name, step in steps.items():
        started = time.perf_counter()
        try:
            body[name] = step()
        except DomainError as exc:
            # The lake cannot support this section yet (too little history, no cases): the
            # page shows the reason; a bad parameter was refused above, before any work.
            body[name] = {"error": exc.message}
        except Exception as exc:  # a bug in one section must not hide the two others
            body[name] = {"error": f"{type(exc).__name__}: {exc}", "failed": True}
        body["seconds"][name] = round(time.perf_counter() - started, 2)
    return body


def _sample_title(m: Any) -> str:
    """Leaders read these: the title without the caller's number (DESIGN §9). A title cut from
    the text is redacted whole first, so a number cut in half at 40 characters is gone too."""
    if m.body.startswith(m.title):
        return redact(m.body)[: len(m.title)]
    return redact(m.title)


def _topics(lake: Path, month: str, top: int, samples: int) -> dict[str, Any]:
    from jiesu.governance import service
    from jiesu.governance.inputs import messages_from_lake

    messages = messages_from_lake(lake, month)
    by_id = {m.id: m for m in messages}
    body = service.topics_body(messages, top)
    items = []
    for t in body["topics"]:
        evidence = t["evidence"]
        newest = sorted(
            (by_id[i] for i in t["message_ids"] if i in by_id), key=lambda m: m.at, reverse=True
        )[:samples]
        items.append(
            {
                "rank": t["rank"],
                "heat": t["heat"],
                "description": t["description"],
                "place": t["place"],
                "admin_place": t["admin_place"],
                "affected_group": t["affected_group"],
                "keywords": t["keywords"][:5],
                "time_range": t["time_range"],
                "messages": evidence["messages"],
                "growth": evidence["growth"],
                "duration_days": evidence["duration_days"],
                "samples": [
                    {"id": m.id, "title": _sample_title(m), "at": m.at.isoformat()} for m in newest
                ],
            }
        )
    return {"messages": len(messages), "items": items}


def _surges(lake: Path, month: str, tz: ZoneInfo, method: str, min_cases: int) -> dict[str, Any]:
    """Alerts of every complete week whose Monday falls in the month, each from the forecast
    made the week before (surges.alerts_at, the same rule as `jiesu governance surges`)."""
    from jiesu.governance.forecast import LEVEL_WEEKS, check_method, weekly_series
    from jiesu.governance.surges import alerts_at

    check_method(method)
    year, number = int(month[:4]), int(month[5:])
    last_day = date(year, number, calendar.monthrange(year, number)[1])
    s = weekly_series(lake, tz, until=last_day)
    # As `surges`, a week is checked only with at least 8 weeks of history before it.
    weeks = [
        i for i, w in enumerate(s.weeks) if w.strftime("%Y-%m") == month and i >= LEVEL_WEEKS - 1
    ]
    items = [row for i in weeks for row in alerts_at(s, i, method, min_cases)]
    return {
        "method": method,
        "min_cases": min_cases,
        "series": len(s.keys),
        "weeks": [s.weeks[i].isoformat() for i in weeks],
        "items": items,
    }


def _candidates(lake: Path, month: str, top: int) -> dict[str, Any]:
    from jiesu.governance.candidates import monthly_candidates

    body = monthly_candidates(lake, month, top=top)
    return {
        "categories": body["categories"],
        "months": body.get("months", [month, month]),
        "city_resolution_rate": body.get("city_resolution_rate"),
        "city_satisfaction_rate": body.get("city_satisfaction_rate"),
        "items": body["candidates"],
    }


def write_summary(lake: Path, body: dict[str, Any]) -> Path:
    """Written under a temporary name and renamed: a page never reads half a file."""
    path = summary_path(lake, body["month"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


class UnreadableSummary(ValueError):
    """The file is there but is not a summary this version can read."""


_cache: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
_lock = threading.Lock()
CACHE_SIZE = 64


def read_summary(lake: Path, month: str) -> dict[str, Any] | None:
    """The month's summary, or None when it has not been computed. Cached per file version."""
    path = summary_path(lake, month)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    version = (st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _cache.get(path)
    if hit and hit[0] == version:
        return hit[1]
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableSummary(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("month") != month:
        raise UnreadableSummary(f"{path} is not a format-{FORMAT} summary of {month}")
    for name in SECTIONS:
        section = body.get(name)
        if not isinstance(section, dict) or not (
            isinstance(section.get("items"), list) or isinstance(section.get("error"), str)
        ):
            raise UnreadableSummary(f"{path}: section {name!r} has neither items nor an error")
    with _lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[path] = (version, body)
    return body
