"""privacy.redact on real-looking case texts: what a read of one text costs.

Run: .venv/bin/python bench/privacy/bench_redact.py   (writes bench/privacy/RESULTS.md; < 1 min)

Texts: the 4,326 附件3 messages of teddycup2020_c (title and detail) when ../shared/data is
there, else 4,000 generated ones. Each is timed three ways: as written; with a phone number,
an e-mail and an ID number planted (the worst case, every text reaching `phonenumbers`); and
through `public_text` (the Open311 feed). Redaction runs on read, never on registration.
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import describe

from jiesu.privacy.redact import _CANDIDATE, HIDDEN, public_text, redact

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "teddycup2020_c" / "fujian3_full_4326_likes.csv"
RESULTS = Path(__file__).parent / "RESULTS.md"
KNOWN = ("王芳", "13812345678")


def texts() -> tuple[list[str], str]:
    if DATA.exists():
        csv.field_size_limit(sys.maxsize)
        with DATA.open(encoding="utf-8", newline="") as f:
            rows = [r["留言主题"] + "\n" + r["留言详情"] for r in csv.DictReader(f)]
        return rows, f"{len(rows):,} 附件3 messages (teddycup2020_c)"
    rng = random.Random(16)
    parts = ["小区路灯不亮", "楼道堆物", "噪音扰民到深夜", "暖气不热", "2026-12-07反映过"]
    rows = [
        "，".join(rng.choices(parts, k=6)) + f"，工单{rng.randint(10**12, 10**13)}"
        for _ in range(4000)
    ]
    return rows, "4,000 generated texts (the teddycup2020_c data was not found)"


def planted(text: str, i: int) -> str:
    return f"{text}联系电话138 {i % 10000:04d} 5678，邮箱wang{i}@qq.com，身份证11010519491231002X"


def timed(fn: Callable[[str], str], rows: list[str]) -> tuple[float, float]:
    for t in rows[:200]:
        fn(t)  # warm the regex and phonenumbers caches
    times = []
    for t in rows:
        # CPU time of this thread: the machine is shared, and waiting for a core is not cost.
        start = time.thread_time()
        fn(t)
        times.append((time.thread_time() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(0.95 * len(times))]


def main() -> None:
    rows, source = texts()
    with_data = [planted(t, i) for i, t in enumerate(rows)]
    candidates = sum(1 for t in rows if _CANDIDATE.search(t))
    changed = sum(1 for t in rows if HIDDEN in redact(t))
    mean_len = statistics.mean(len(t) for t in rows)
    cases = [
        ("redact, texts as written", lambda t: redact(t, KNOWN), rows),
        ("redact, phone + e-mail + ID planted", lambda t: redact(t, KNOWN), with_data),
        ("public_text (Open311 feed), as written", lambda t: public_text(t, KNOWN), rows),
    ]
    lines = [
        "# Redaction (privacy/redact.py)",
        "",
        f"`bench/privacy/bench_redact.py`, {datetime.now(UTC):%Y-%m-%d}, {describe()}.",
        f"Texts: {source}, {mean_len:.0f} characters on average; {candidates:,} of them"
        f" ({candidates / len(rows):.0%}) pass the pre-filter (a run of 7+ digits, an @ or"
        f' "at") and reach `phonenumbers`; {changed:,} had something hidden.',
        "",
        "| what | median CPU µs / text | p95 CPU µs / text |",
        "| --- | ---: | ---: |",
    ]
    for name, fn, data in cases:
        median, p95 = timed(fn, data)
        lines.append(f"| {name} | {median:.1f} | {p95:.1f} |")
    lines += [
        "",
        "Redaction runs when a masked role, an export or the Open311 feed reads a text, never when"
        " a case is registered, so the registration rate of bench/serve is unaffected; a page of"
        " 50 cases costs 50 × the median above.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
