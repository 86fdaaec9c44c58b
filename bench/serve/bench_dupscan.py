"""The duplicate finder's scan as a registration runs it: one new text against 300 candidates.

    .venv/bin/python bench/serve/bench_dupscan.py

Two candidate sets: 300 real 附件3 messages (mostly unrelated, long) on three streets, and 300
near-copies of one message (every one a match, the worst case for the scan). Each is compared
as a plain list (the finder prepares it on every call) and as a place's window hands it out
(prepared once, its grams in an index). CPU ms per call, the least of five rounds of 200 calls
(the machine is shared).
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "triage"))
from corpus import DATA  # type: ignore[import-not-found]  # noqa: E402

from jiesu.triage.duplicates import (  # noqa: E402
    CandidateSet,
    DupCandidate,
    GramIndex,
    find_duplicates,
)

WHEN = datetime(2026, 10, 1, tzinfo=UTC)
STREETS = ["110101001", "110101002", None]


def per_call(queries: list[str], pool: Sequence[DupCandidate]) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for i, text in enumerate(queries):
            find_duplicates(text, STREETS[i % 3], pool)
        best = min(best, (time.process_time() - started) / len(queries))
    return best * 1000


def windowed(pool: list[DupCandidate]) -> CandidateSet:
    plain = CandidateSet(pool)
    index = GramIndex(plain.ids.tolist(), plain.profiles)
    return CandidateSet(pool, index)


def main() -> None:
    csv.field_size_limit(sys.maxsize)
    with (DATA / "fujian3_full_4326_likes.csv").open(encoding="utf-8", newline="") as f:
        msgs = [r["留言主题"] + "\n" + r["留言详情"] for r in csv.DictReader(f)]
    real = [
        DupCandidate(i, t, STREETS[i % 3], WHEN, "dispatched") for i, t in enumerate(msgs[:300])
    ]
    base = msgs[2000]
    copies = [
        DupCandidate(i, base.replace("。", f"{i % 7}。", 1), STREETS[i % 3], WHEN, "registered")
        for i in range(300)
    ]
    queries = [base.replace("。", f"，第{i}次。", 1) for i in range(200)]
    print("| candidates | plain list | window (prepared, indexed) |")
    print("|---|---|---|")
    for name, pool, texts in (
        ("300 附件3 messages", real, msgs[1000:1200]),
        ("300 near-copies of one message", copies, queries),
    ):
        print(
            f"| {name} | {per_call(texts, pool):.2f} ms | "
            f"{per_call(texts, windowed(pool)):.2f} ms |"
        )


if __name__ == "__main__":
    main()
