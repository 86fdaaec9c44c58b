"""The labelled teddycup2020_c corpus: the three overlapping files merged, deduplicated and grouped.

The tokenised set (8,128 rows) was made from the same 附件2 messages as the raw dev split and the
sample, with stop-words, digits and punctuation removed, so exact matching cannot find the copies.
Copies are found on CJK character bigrams taken *inside* tokens for the tokenised set (the bigrams
that straddle a removed stop-word would otherwise hide the copy) and over the whole text for raw
rows: a containment |A∩B| / min(|A|, |B|) ≥ GROUP_CONTAINMENT links two messages (2,120 of the
2,169 raw rows find their tokenised twin at ≥ 0.98, and nothing falls between 0.7 and 0.95);
linked messages form one group (union-find) and grouped cross-validation keeps a group on one
side of every fold.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

REPO = Path(__file__).resolve().parents[2]
# In CI the shared data sits at ../shared relative to the checkout.
DATA = REPO.parent / "shared" / "data" / "teddycup2020_c"
GROUP_CONTAINMENT = 0.8
_NON_CJK = re.compile(r"[^\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    labels: list[str]
    groups: np.ndarray  # group id per text
    sources: list[str]  # "raw" (dev split or sample) or "tokenised"
    n_rows_read: int
    n_exact_duplicates: int


def _rows(name: str) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with (DATA / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _identity(doc: list[str]) -> list[str]:
    return doc


def _bigrams(text: str, source: str) -> list[str]:
    parts = text.split() if source == "tokenised" else [text]
    out: set[str] = set()
    for part in parts:
        p = _NON_CJK.sub("", part)
        out.update(p[i : i + 2] for i in range(len(p) - 1))
    return sorted(out)


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[ra] = rb
    return np.array([find(i) for i in range(n)])


def load_corpus() -> Corpus:
    items: list[tuple[str, str, str]] = []
    for r in _rows("fujian2_sample_495_labelled.csv"):
        items.append((r["留言主题"] + "\n" + r["留言详情"], r["一级分类"], "raw"))
    for r in _rows("fujian2_raw_split_dev_1842_labelled.csv"):
        items.append((r["text_title_plus_detail"], r["一级分类"], "raw"))
    for r in _rows("fujian2_tokenized_labelled_minus_holdout.csv"):
        items.append((r["text_tokenized"], r["一级分类"], "tokenised"))
    n_read = len(items)
    # Exact copies (same CJK characters and label) are dropped; raw rows come first, so a raw
    # text is preferred over its tokenised twin when both are identical after normalising.
    seen: set[tuple[str, str]] = set()
    kept: list[tuple[str, str, str]] = []
    for text, label, source in items:
        key = (_NON_CJK.sub("", text), label)
        if key in seen or not key[0]:
            continue
        seen.add(key)
        kept.append((text, label, source))
    bigrams = [_bigrams(t, s) for t, _, s in kept]
    x = CountVectorizer(analyzer=_identity, binary=True, dtype=np.float32).fit_transform(bigrams)
    size = np.asarray(x.sum(axis=1)).ravel()
    inter = (x @ x.T).tocoo()
    upper = inter.row < inter.col
    rows, cols, shared = inter.row[upper], inter.col[upper], inter.data[upper]
    containment = shared / np.maximum(1.0, np.minimum(size[rows], size[cols]))
    mask = containment >= GROUP_CONTAINMENT
    pairs = np.stack([rows[mask], cols[mask]], axis=1)
    groups = _components(len(kept), pairs)
    return Corpus(
        texts=[t for t, _, _ in kept],
        labels=[lab for _, lab, _ in kept],
        groups=groups,
        sources=[s for _, _, s in kept],
        n_rows_read=n_read,
        n_exact_duplicates=n_read - len(kept),
    )
