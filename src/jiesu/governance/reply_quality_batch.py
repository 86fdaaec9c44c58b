"""Scoring every reply of an export (the competition's 附件4 or a centre's own), with a summary
of the score distribution."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped,unused-ignore]

from jiesu.errors import InvalidInput
from jiesu.governance.inputs import to_utc
from jiesu.governance.reply_quality import assess_reply

COLUMNS = (
    "id",
    "score",
    "grade",
    "relevance",
    "completeness",
    "timeliness",
    "delay_days",
    "reasons",
)


def score_table(
    frame: pd.DataFrame,
    *,
    request_columns: Sequence[str],
    reply_column: str,
    id_column: str,
    request_time_column: str | None,
    reply_time_column: str | None,
    tz: ZoneInfo,
) -> dict[str, Any]:
    wanted = [*request_columns, reply_column, id_column]
    wanted += [c for c in (request_time_column, reply_time_column) if c]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"column(s) {', '.join(missing)} not in the file; it has: {', '.join(frame.columns)}"
        )
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for rec in frame.fillna("").astype(str).to_dict("records"):
        request = " ".join(rec[c] for c in request_columns)
        asked = to_utc(rec[request_time_column], tz) if request_time_column else None
        answered = to_utc(rec[reply_time_column], tz) if reply_time_column else None
        try:
            quality = assess_reply(
                request, rec[reply_column], requested_at=asked, replied_at=answered
            )
        except ValueError:
            skipped.append(rec[id_column])
            continue
        rows.append({"id": rec[id_column], **quality.as_dict()})
    scores = pd.Series([r["score"] for r in rows], dtype=float)
    grades = Counter(r["grade"] for r in rows)
    summary = {
        "replies": len(rows),
        "skipped": skipped,
        "mean": round(float(scores.mean()), 1) if len(scores) else None,
        "quartiles": [round(float(q), 1) for q in scores.quantile([0.25, 0.5, 0.75])]
        if len(scores)
        else [],
        "grades": {g: grades.get(g, 0) for g in "ABCD"},
    }
    return {"summary": summary, "replies": rows}
