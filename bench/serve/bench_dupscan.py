"""The duplicate finder's scan as a registration runs it: one new text against 300 candidates.

    .venv/bin/python bench/serve/bench_dupscan.py

Two candidate sets: 300 real 附件3 messages (mostly unrelated, long) on three streets, and 300
near-copies of the load test's text (every one a match, the worst case for the scan). CPU ms
per call, the least of five rounds of 200 calls (the machine is shared).
"""

from __future__ import annotations

import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "triage"))
from bench_load import TEXT  # noqa: E402
from corpus import DATA  # type: ignore[import-not-found]  # noqa: E402

from jiesu.triage.duplicates import DupCandidate, find_duplicates  # noqa: E402

WHEN = datetime(2026, 10, 1, tzinfo=UTC)
STREETS = ["110101001", "110101002", None]


def per_call(queries: list[str], pool: list[DupCandidate]) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for i, text in enumerate(queries):
            find_duplicates(text, STREETS[i % 3], pool)
        best = min(best, (time.process_time() - started) / len(queries))
    return best * 1000


def main() -> None:
    csv.field_size_limit(sys.maxsize)
    with (DATA / "fujian3_full_4326_likes.csv").open(encoding="utf-8", newline="") as f:
        msgs = [r["留言主题"] + "\n" + r["留言详情"] for r in csv.DictReader(f)]
    real = [
        DupCandidate(i, t, STREETS[i % 3], WHEN, "dispatched") for i, t in enumerate(msgs[:300])
    ]
    copies = [
        DupCandidate(i, TEXT.format(street=f"11010{i % 5}001"), STREETS[i % 3], WHEN, "registered")
        for i in range(300)
    ]
    bench_texts = [
        TEXT.format(street=f"11010{i % 5}001").replace("3号", f"{i % 9}号") for i in range(200)
    ]
    print(f"300 附件3 candidates: {per_call(msgs[1000:1200], real):.2f} ms per call")
    print(f"300 near-copies (load test text): {per_call(bench_texts, copies):.2f} ms per call")


if __name__ == "__main__":
    main()
