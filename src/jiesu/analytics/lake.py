"""The analytics lake on disk: Parquet tables partitioned by month, and the refresh state.

Layout (DESIGN §8)::

    LAKE/cases/month=2026-10/ids-<first id>.parquet   one file per block of CASE_BLOCK ids;
                                                   a block is rewritten when one of its cases
                                                   changes (a day's refresh touches a few)
    LAKE/events/month=2026-10/part-<first id>-g<generation>.parquet   append-only parts
    LAKE/callbacks/month=2026-10/part-<first id>-g<generation>.parquet
    LAKE/exclusions/part-<first id>-g<generation>.parquet   approved exclusions (event log)
    LAKE/assessed/month=2026-10/data.parquet       derived: the month's assessed callbacks,
                                                   rebuilt whenever its callbacks or a case's
                                                   exclusion change (analytics/assessed.py)
    LAKE/units/data.parquet  LAKE/categories/data.parquet   small, rewritten each refresh
    LAKE/_state.json                               watermarks, written last

Every file is written to a temporary name and renamed into place, so a reader never sees half a
file, and the state moves only after the files it describes exist. Every batch of parts carries
the next generation number in its name and the state's generation moves with the watermarks, so
a crash leaves at most parts of a generation the state never reached, which the next refresh
deletes before it starts (whatever their ids: a late-committed row below the watermark is
exported in a later part, see export.py).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

# ASCII digits only: `\d` also matches full-width and other scripts' digits.
MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
# Parts without a generation are from lakes written before generations (or generated: gen 0).
PART_RE = re.compile(r"^part-(\d{12})(?:-g(\d{8}))?\.parquet$")
STATE_FILE = "_state.json"

UTC_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "cases": pa.schema(
        [
            ("id", pa.int64()),
            ("status", pa.string()),
            ("request_type", pa.string()),
            ("category", pa.string()),
            ("urgency", pa.string()),
            ("channel", pa.string()),
            ("district", pa.string()),
            ("street", pa.string()),
            ("lead_unit", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("text", pa.string()),
            ("master_case_id", pa.int64()),
            ("reopen_count", pa.int32()),
            ("exclusion_state", pa.string()),
            ("created_at", UTC_TS),
            ("dispatched_at", UTC_TS),
            ("contacted_at", UTC_TS),
            ("contact_due", UTC_TS),
            ("reply_due", UTC_TS),
            ("replied_at", UTC_TS),
            ("closed_at", UTC_TS),
            ("updated_at", UTC_TS),
        ]
    ),
    "events": pa.schema(
        [
            ("id", pa.int64()),
            ("case_id", pa.int64()),
            ("at", UTC_TS),
            ("role", pa.string()),
            ("unit_code", pa.string()),
            ("action", pa.string()),
            ("from_status", pa.string()),
            ("to_status", pa.string()),
            ("reason", pa.string()),
            ("payload", pa.string()),  # JSON text: both engines can parse it if ever needed
        ]
    ),
    # One row per callback, with what assessment needs fixed at the time of the call (see
    # docs/assessment.md): the assessed unit, its first contact and the contact due time.
    "callbacks": pa.schema(
        [
            ("id", pa.int64()),
            ("case_id", pa.int64()),
            ("at", UTC_TS),
            ("unit_code", pa.string()),
            ("assessed_unit", pa.string()),
            ("contacted", pa.bool_()),
            ("resolved", pa.string()),
            ("satisfaction", pa.string()),
            ("unit_contacted_at", UTC_TS),
            ("contact_due", UTC_TS),
            ("category", pa.string()),
            ("district", pa.string()),
            ("street", pa.string()),
        ]
    ),
    "exclusions": pa.schema(
        [("event_id", pa.int64()), ("case_id", pa.int64()), ("approved_at", UTC_TS)]
    ),
    # Derived at export (analytics/assessed.py, metric assessed_rows): per month, the last
    # callback of each case that has an assessed unit, with the response flag and the
    # exclusion flag joined in, so that assessment is one scan-and-group (DESIGN §6).
    "assessed": pa.schema(
        [
            ("case_id", pa.int64()),
            ("callback_id", pa.int64()),
            ("called_at", UTC_TS),
            ("unit", pa.string()),
            ("category", pa.string()),
            ("street", pa.string()),
            ("contacted", pa.bool_()),
            ("resolved", pa.string()),
            ("satisfaction", pa.string()),
            ("responded", pa.int32()),
            ("excluded", pa.bool_()),
        ]
    ),
    "units": pa.schema(
        [
            ("code", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("parent_code", pa.string()),
        ]
    ),
    "categories": pa.schema(
        [
            ("code", pa.string()),
            ("name", pa.string()),
            ("level", pa.int32()),
            ("parent_code", pa.string()),
        ]
    ),
}
PARTITIONED = ("cases", "events", "callbacks", "assessed")


def check_month(month: str) -> str:
    if not MONTH_RE.match(month):
        raise ValueError(f"month must look like 2026-10, not {month!r}")
    return month


def month_of(at: datetime, tz: ZoneInfo) -> str:
    """The city's calendar month of an instant: a call at 00:30 on 1 November in Beijing
    (16:30 UTC on 31 October) belongs to November, as the centre counts it."""
    local = at.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not named *.parquet: a reader's glob never picks up a file being written.
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}.partial")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


# Cases are filed by month (of created_at, which never changes) and, within a month, by block
# of ids: a refresh rewrites only the blocks holding changed cases, so one new day on top of a
# 100M-case lake rewrites a few files of ~10 MB, not the whole month (hundreds of MB).
CASE_BLOCK = 1 << 17
LEGACY_CASE_FILE = "data.parquet"  # one file per month, as lakes before blocks were written


def case_blocks(table: pa.Table) -> Iterator[tuple[int, pa.Table]]:
    """The rows of a cases table by block of ids: (first id of the block, its rows by id)."""
    table = table.sort_by("id")
    blocks = table["id"].to_numpy() // CASE_BLOCK * CASE_BLOCK
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]] if len(blocks) else [])
    for lo, hi in zip(starts, [*starts[1:], len(blocks)], strict=True):
        yield int(blocks[lo]), table.slice(lo, hi - lo)


def case_block_name(first_id: int) -> str:
    return f"ids-{first_id:012d}.parquet"


def part_name(first_id: int, generation: int | None = None) -> str:
    if generation is None:
        return f"part-{first_id:012d}.parquet"
    return f"part-{first_id:012d}-g{generation:08d}.parquet"


@dataclass
class LakeState:
    """Watermarks per table: the last id (append-only tables) or updated_at (cases) exported."""

    watermarks: dict[str, Any] = field(default_factory=dict)
    refreshed_at: str | None = None

    @classmethod
    def load(cls, lake: Path) -> LakeState:
        path = lake / STATE_FILE
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            watermarks=dict(data.get("watermarks", {})), refreshed_at=data.get("refreshed_at")
        )

    def save(self, lake: Path) -> None:
        lake.mkdir(parents=True, exist_ok=True)
        tmp = lake / f".tmp-{os.getpid()}-{STATE_FILE}"
        body = {"watermarks": self.watermarks, "refreshed_at": self.refreshed_at}
        tmp.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, lake / STATE_FILE)


def remove_orphans(lake: Path, table: str, watermark: int, generation: int) -> int:
    """Delete parts a crashed refresh wrote (a generation the state never reached; for parts
    without a generation, ids above the watermark) and stray temporary files."""
    removed = 0
    root = lake / table
    if not root.exists():
        return 0
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        m = PART_RE.match(path.name)
        orphan = path.name.startswith(".tmp-")
        if m and m.group(2) is not None:
            orphan = orphan or int(m.group(2)) > generation
        elif m:
            orphan = orphan or int(m.group(1)) > watermark
        if orphan:
            path.unlink()
            removed += 1
    return removed


def table_glob(lake: Path, table: str) -> str:
    if table in PARTITIONED:
        return str(lake / table / "month=*" / "*.parquet")
    return str(lake / table / "*.parquet")


def has_table(lake: Path, table: str) -> bool:
    root = lake / table
    return root.exists() and any(root.rglob("*.parquet"))
