"""Duplicate finder on hand-labelled pairs of 附件3 (tests/data/triage/dup_pairs.csv).

Run: .venv/bin/python bench/triage/bench_duplicates.py   (appends to bench/triage/RESULTS.md)
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import DATA

from jiesu.triage.classifier import train
from jiesu.triage.duplicates import DEFAULT_THRESHOLD, DupCandidate, find_duplicates
from jiesu.triage.engine import CategoryInfo, Triage

REPO = Path(__file__).resolve().parents[2]
PAIRS = REPO / "tests" / "data" / "triage" / "dup_pairs.csv"
RESULTS = Path(__file__).parent / "RESULTS.md"


def propose_latency(messages: list[str]) -> list[str]:
    # A model trained on the raw dev split (enough for timing), 30 duplicate candidates per call.
    with (DATA / "fujian2_raw_split_dev_1842_labelled.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    model = train([r["text_title_plus_detail"] for r in rows], [r["一级分类"] for r in rows])
    names = sorted({r["一级分类"] for r in rows})
    triage = Triage(model, [CategoryInfo(f"{i:02d}", n, 1, None) for i, n in enumerate(names)])
    when = datetime(2019, 1, 1, tzinfo=UTC)
    cands = [DupCandidate(i, m, None, when, "dispatched") for i, m in enumerate(messages[:30])]
    texts = messages[100:400]
    triage.propose(texts[0], dup_candidates=cands)
    times = []
    for t in texts:
        started = time.perf_counter()
        triage.propose(t, address="海淀区中关村", lat=39.98, lon=116.31, dup_candidates=cands)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return [
        "## Triage.propose latency",
        "",
        f"{len(texts)} 附件3 messages, one at a time, with address, coordinates and 30 duplicate"
        " candidates each, model trained on the raw dev split:"
        f" median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times))]:.1f} ms,"
        f" max {times[-1]:.1f} ms (bar: < 50 ms).",
    ]


def main() -> None:
    csv.field_size_limit(sys.maxsize)
    with (DATA / "fujian3_full_4326_likes.csv").open(encoding="utf-8", newline="") as f:
        msgs = {r["留言编号"]: r["留言主题"] + "\n" + r["留言详情"] for r in csv.DictReader(f)}
    with PAIRS.open(encoding="utf-8", newline="") as f:
        pairs = list(csv.DictReader(f))
    when = datetime(2019, 1, 1, tzinfo=UTC)
    scores = []
    for p in pairs:
        cand = DupCandidate(1, msgs[p["id_b"]], None, when, "dispatched")
        found = find_duplicates(msgs[p["id_a"]], None, [cand], threshold=0.0)
        scores.append((found[0].score if found else 0.0, p["is_duplicate"] == "1"))
    lines = [
        "",
        "## Duplicates, 附件3 hand-labelled pairs",
        "",
        "`.venv/bin/python bench/triage/bench_duplicates.py`",
        "",
        f"{len(pairs)} pairs ({sum(d for _, d in scores)} duplicates), chosen as"
        " tests/data/triage/README.md says. Text only (附件3 has no street codes).",
        "",
        "| threshold | precision | recall | F1 |",
        "|---|---|---|---|",
    ]
    for t in sorted({0.15, 0.2, 0.25, 0.3, 0.35, 0.45, 0.55, DEFAULT_THRESHOLD}):
        tp = sum(1 for s, d in scores if s >= t and d)
        fp = sum(1 for s, d in scores if s >= t and not d)
        fn = sum(1 for s, d in scores if s < t and d)
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        mark = " (default)" if t == DEFAULT_THRESHOLD else ""
        lines.append(f"| {t:.2f}{mark} | {prec:.3f} | {rec:.3f} | {f1:.3f} |")
    lines += ["", *propose_latency(list(msgs.values())), ""]
    old = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Triage benchmarks\n"
    RESULTS.write_text(
        old.split("\n## Duplicates", 1)[0].rstrip("\n") + "\n" + "\n".join(lines), "utf-8"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
