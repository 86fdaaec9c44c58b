"""The model's part of a registrar's group: each text classified (top 3) and its top category
explained, one text at a time or after `TextModel.prime` made the group's rows together.

    .venv/bin/python bench/serve/bench_prime.py

The live model bench_load.py trains and its registrations' real 附件3 texts, 2,000 of them in
groups of 1, 4, 8 and 16 (the registrar's groups under the load bench hold ~3.7). CPU ms per
text (this process only), the least of five rounds (the machine is shared); the two paths
give the same rows to the bit (tests/unit/triage/test_classifier.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from bench_load import registration, train_model  # noqa: E402

from jiesu.triage.classifier import TextModel  # noqa: E402
from jiesu.triage.model_store import FORMAT, load_model  # noqa: E402

TEXTS = 2000
SIZES = (1, 4, 8, 16)
ROUNDS = 5


def per_text(model: TextModel, texts: list[str], size: int, prime: bool) -> float:
    started = time.process_time()
    for at in range(0, len(texts), size):
        group = texts[at : at + size]
        model._recent.clear()  # a new group's texts are new to the model
        if prime:
            model.prime(group)
        for text in group:
            label = model.predict_top([text], k=3)[0][0][0]
            model.explain(text, label, n=5)
    return (time.process_time() - started) / len(texts) * 1000


def least(model: TextModel, texts: list[str], size: int) -> tuple[float, float]:
    """The least of ROUNDS rounds for each path, the two measured in turn in every round (the
    machine is shared: what slows one round slows both paths alike)."""
    alone, primed = float("inf"), float("inf")
    for _ in range(ROUNDS):
        alone = min(alone, per_text(model, texts, size, prime=False))
        primed = min(primed, per_text(model, texts, size, prime=True))
    return alone, primed


def main() -> None:
    model = load_model(train_model(ROOT / "var" / "bench" / f"model-{FORMAT}"))
    texts = [str(registration(i)[1]["text"]) for i in range(TEXTS)]
    lines = [
        "# The model's part of a registration, one by one or primed by group",
        "",
        "`.venv/bin/python bench/serve/bench_prime.py` — top 3 categories and the top one's",
        f"explanation for {TEXTS} real 附件3 texts; CPU ms per text, least of {ROUNDS} rounds.",
        "",
        "| group size | one text at a time | primed (`TextModel.prime`) | primed / alone |",
        "|---|---|---|---|",
    ]
    for size in SIZES:
        alone, primed = least(model, texts, size)
        lines.append(f"| {size} | {alone:.3f} | {primed:.3f} | {primed / alone:.2f} |")
    out = Path(__file__).with_name("RESULTS_prime.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
