from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from jiesu.triage.duplicates import DupCandidate, find_duplicates

from .conftest import DATA, teddy_rows

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEXT = "丽发新城小区旁边修建搅拌站，灰尘噪音污染严重，影响居民休息"


def cand(case_id: int, text: str, street: str | None = None, **kw: object) -> DupCandidate:
    created = kw.get("created_at", NOW - timedelta(days=1))
    status = kw.get("status", "dispatched")
    return DupCandidate(case_id, text, street, created, str(status))  # type: ignore[arg-type]


def test_similar_text_is_found_and_unrelated_is_not() -> None:
    found = find_duplicates(
        TEXT,
        None,
        [cand(1, "丽发新城附近修建搅拌站，灰尘和噪音污染严重"), cand(2, "地铁站口黑车拉客")],
        threshold=0.25,
    )
    assert [m.case_id for m in found] == [1]
    assert found[0].reasons[0].startswith("text similarity")


def test_same_street_ranks_first() -> None:
    text = "丽发新城附近修建搅拌站，灰尘和噪音污染严重"
    found = find_duplicates(
        TEXT, "110105026", [cand(1, text, "110108005"), cand(2, text, "110105026")], threshold=0.1
    )
    assert [m.case_id for m in found] == [2, 1]
    assert any("same street" in r for r in found[0].reasons)


def test_old_closed_cases_are_skipped_open_ones_kept() -> None:
    old = NOW - timedelta(days=60)
    found = find_duplicates(
        TEXT,
        None,
        [cand(1, TEXT, created_at=old, status="closed"), cand(2, TEXT, created_at=old)],
        threshold=0.25,
        now=NOW,
    )
    assert [m.case_id for m in found] == [2]


def test_labelled_pairs_precision_and_recall() -> None:
    msgs = {
        r["留言编号"]: r["留言主题"] + "\n" + r["留言详情"]
        for r in teddy_rows("fujian3_full_4326_likes.csv")
    }
    with (DATA / "dup_pairs.csv").open(encoding="utf-8", newline="") as f:
        pairs = list(csv.DictReader(f))
    assert len(pairs) >= 150
    tp = fp = fn = 0
    for p in pairs:
        hit = bool(find_duplicates(msgs[p["id_a"]], None, [cand(1, msgs[p["id_b"]])]))
        dup = p["is_duplicate"] == "1"
        tp += hit and dup
        fp += hit and not dup
        fn += dup and not hit
    assert tp / (tp + fp) >= 0.9
    assert tp / (tp + fn) >= 0.7
