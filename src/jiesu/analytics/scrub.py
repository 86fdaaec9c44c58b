"""The lake after retention (ops/retention.py): the expired cases' rows, as the database now
holds them, replace what the lake exported earlier.

Cases: each case's row is re-exported into its block (the refresh moves cases by updated_at,
which retention leaves alone on purpose, so it would never pick them up). Events: the rows of
those cases in the months they happened are replaced by the database's, whose free text is
sealed under the case key that retention has just deleted; a lake exported before the text was
sealed (migration 0010) thereby loses its plain copy too.
"""

from __future__ import annotations

import fcntl
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from jiesu.analytics.export import LOCK_FILE, _merge_month
from jiesu.analytics.lake import SCHEMAS, month_of, write_atomic
from jiesu.cases.models import Case, CaseEvent

BATCH = 500


def scrub_lake(session: Session, lake: Path, tz: ZoneInfo, case_ids: Sequence[int]) -> int:
    """Rewrite the lake's rows of `case_ids`; returns the files rewritten (0 without a lake)."""
    if not case_ids or not (lake / "cases").exists():
        return 0
    with (lake / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        files = 0
        for start in range(0, len(case_ids), BATCH):
            ids = list(case_ids[start : start + BATCH])
            files += _cases(session, lake, tz, ids) + _events(session, lake, tz, ids)
        return files


def _cases(session: Session, lake: Path, tz: ZoneInfo, ids: list[int]) -> int:
    t = Case.__table__
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in session.execute(
        select(*(t.c[n] for n in SCHEMAS["cases"].names)).where(t.c.id.in_(ids))
    ):
        row = {n: r._mapping[n] for n in SCHEMAS["cases"].names}
        by_month[month_of(row["created_at"], tz)].append(row)
    for month, rows in by_month.items():
        _merge_month(lake, month, rows)
    return len(by_month)


def _events(session: Session, lake: Path, tz: ZoneInfo, ids: list[int]) -> int:
    t = CaseEvent.__table__
    current = {
        event_id: (reason, payload or "{}")
        for event_id, reason, payload in session.execute(
            select(t.c.id, t.c.reason, cast(t.c.payload, Text)).where(t.c.case_id.in_(ids))
        )
    }
    months = {
        month_of(at, tz) for at in session.scalars(select(t.c.at).where(t.c.case_id.in_(ids)))
    }
    rewritten = 0
    wanted = pa.array(ids, pa.int64())
    for month in sorted(months):
        for path in sorted((lake / "events" / f"month={month}").glob("part-*.parquet")):
            table = pq.read_table(path, schema=SCHEMAS["events"])
            hit = pc.is_in(table["case_id"], value_set=wanted)
            if not pc.any(hit).as_py():
                continue
            reasons, payloads = [], []
            for event_id, reason, payload, mine in zip(
                table["id"].to_pylist(),
                table["reason"].to_pylist(),
                table["payload"].to_pylist(),
                hit.to_pylist(),
                strict=True,
            ):
                new = current.get(event_id) if mine else None
                reasons.append(new[0] if new else reason)
                payloads.append(new[1] if new else payload)
            table = table.set_column(
                table.schema.get_field_index("reason"), "reason", pa.array(reasons, pa.string())
            )
            table = table.set_column(
                table.schema.get_field_index("payload"), "payload", pa.array(payloads, pa.string())
            )
            write_atomic(table, path)
            rewritten += 1
    return rewritten
