"""Cases are filed in blocks of ids within their month: a refresh rewrites only the blocks
holding changed cases, and a month written as one file (older lakes) is split once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from jiesu.analytics.export import _merge_month
from jiesu.analytics.lake import CASE_BLOCK, LEGACY_CASE_FILE, SCHEMAS, case_block_name

AT = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)


def case(case_id: int, status: str = "registered") -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SCHEMAS["cases"].names)
    row.update(id=case_id, status=status, created_at=AT, updated_at=AT, reopen_count=0)
    return row


def statuses(root: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for path in sorted(root.glob("*.parquet")):
        t = pq.read_table(path)
        out.update(zip(t["id"].to_pylist(), t["status"].to_pylist(), strict=True))
    return out


def test_a_change_rewrites_only_its_block(tmp_path: Path) -> None:
    root = tmp_path / "cases" / "month=2026-10"
    ids = [1, 2, CASE_BLOCK + 1, 2 * CASE_BLOCK + 5]
    _merge_month(tmp_path, "2026-10", [case(i) for i in ids])
    names = sorted(p.name for p in root.glob("*.parquet"))
    assert names == [case_block_name(b) for b in (0, CASE_BLOCK, 2 * CASE_BLOCK)]
    untouched = root / case_block_name(0)
    before = untouched.stat().st_mtime_ns, untouched.stat().st_ino
    _merge_month(tmp_path, "2026-10", [case(CASE_BLOCK + 1, "closed"), case(CASE_BLOCK + 2)])
    assert (untouched.stat().st_mtime_ns, untouched.stat().st_ino) == before
    got = statuses(root)
    assert got == {
        1: "registered",
        2: "registered",
        CASE_BLOCK + 1: "closed",  # replaced, not duplicated
        CASE_BLOCK + 2: "registered",
        2 * CASE_BLOCK + 5: "registered",
    }
    assert sum(pq.read_metadata(p).num_rows for p in root.glob("*.parquet")) == 5


def test_a_month_in_one_file_is_split_into_blocks_once(tmp_path: Path) -> None:
    root = tmp_path / "cases" / "month=2026-10"
    root.mkdir(parents=True)
    legacy = pa.Table.from_pylist([case(3), case(CASE_BLOCK + 9)], schema=SCHEMAS["cases"])
    pq.write_table(legacy, root / LEGACY_CASE_FILE)
    _merge_month(tmp_path, "2026-10", [case(3, "dispatched")])
    assert not (root / LEGACY_CASE_FILE).exists()
    assert sorted(p.name for p in root.glob("*.parquet")) == [
        case_block_name(0),
        case_block_name(CASE_BLOCK),
    ]
    assert statuses(root) == {3: "dispatched", CASE_BLOCK + 9: "registered"}
