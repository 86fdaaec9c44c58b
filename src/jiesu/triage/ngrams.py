"""The classifier's parts: n-gram TF-IDF over a pruned hashed vocabulary, word n-grams, NB-SVM.

N-grams are never built as strings. A batch of texts becomes one array of code points, and the
n-grams of every length are 64-bit polynomial hashes rolled over it in numpy (h_n[i] =
h_{n-1}[i]·P + c[i+n-1]), so a batch costs a few array operations per n-gram length instead of
~1,600 Python strings per message hashed one by one (this took 0.45 of the ~0.9 ms a raw
message cost before). The 64-bit keys are mixed and cut to 2**bits buckets; buckets seen in
fewer than min_df training texts are dropped, since NB-SVM's log-count ratios are noise for
rare n-grams (on the tuning folds, pruning at 3 of 8,000 texts: 0.915 → 0.925 macro-F1).

NB-SVM (Wang & Manning 2012, "Baselines and Bigrams"): for each class, the features are scaled
by the log-count ratio r = log((p/|p|₁) / (q/|q|₁)) of the class against the rest (p, q: smoothed
document counts), and a binary linear SVM is fitted on the scaled features. Since
(x∘r)·w = x·(r∘w), the fitted model is an ordinary linear model with coef = r∘w: prediction costs
one sparse product, as for a plain LinearSVC, and `coef_` still explains a decision.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

_MASK = (1 << 64) - 1
_OFFSET = 0xCBF29CE484222325
_PRIME = 0x100000001B3
_PAIR = 0x9E3779B97F4A7C15
_FIRST = (_OFFSET * _PRIME) & _MASK


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: the polynomial's low bits are poorly spread, the mixed ones are not.
    x = h ^ (h >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    mixed: np.ndarray = x
    return mixed


def key_of(text: str) -> int:
    """The 64-bit key of one string, as `Batch.keys` computes it for every n-gram."""
    h = _OFFSET
    for ch in text:
        h = (h * _PRIME + ord(ch) + 1) & _MASK
    return h


def keys_of(texts: Iterable[str]) -> np.ndarray:
    return np.fromiter(map(key_of, texts), dtype=np.uint64)


class Batch:
    """Texts as one array of code points, with the rolling n-gram keys cached per length."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.n_docs = len(texts)
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        self.codes = codes.astype(np.uint64) + np.uint64(1)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - lengths
        self.doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        self.end_of = np.repeat(self.ends, lengths)
        self._keys: dict[int, np.ndarray] = {}

    def keys(self, n: int) -> np.ndarray:
        """Key of the n characters from each position (garbage where they cross a text's end)."""
        cached = self._keys.get(n)
        if cached is not None:
            return cached
        size = len(self.codes)
        if n == 1:
            h = self.codes + np.uint64(_FIRST)
        else:
            h = self.keys(n - 1) * np.uint64(_PRIME)
            h[: max(0, size - n + 1)] += self.codes[n - 1 :]
        self._keys[n] = h
        return h

    def one(self, i: int) -> Batch:
        """Text i as a batch of its own, sharing this one's arrays and the keys computed so far
        (a position's key depends only on the characters from it on)."""
        start, end = int(self.starts[i]), int(self.ends[i])
        part = Batch.__new__(Batch)
        part.n_docs = 1
        part.codes = self.codes[start:end]
        part.ends = np.array([end - start], dtype=np.int64)
        part.starts = np.zeros(1, dtype=np.int64)
        part.doc = np.zeros(end - start, dtype=np.int64)
        part.end_of = np.full(end - start, end - start, dtype=np.int64)
        part._keys = {n: keys[start:end] for n, keys in self._keys.items()}
        return part

    def valid(self, n: int, limit: int | None = None) -> np.ndarray:
        """Positions whose n-gram ends inside its text (and inside its first `limit` chars)."""
        end = self.end_of
        if limit is not None:
            end = np.minimum(end, self.starts[self.doc] + limit)
        ok: np.ndarray = np.arange(len(self.codes)) + n <= end
        return ok


class Analyzer(Protocol):
    def __call__(self, text: str) -> list[str]: ...

    def batch_keys(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]: ...


class CharGrams:
    """Character low…high-grams; `limit` keeps only the first characters (the head block)."""

    def __init__(self, low: int, high: int, limit: int | None = None) -> None:
        self.low, self.high, self.limit = low, high, limit

    def __call__(self, text: str) -> list[str]:
        if self.limit is not None:
            text = text[: self.limit]
        return [
            text[i : i + n]
            for n in range(self.low, self.high + 1)
            for i in range(len(text) - n + 1)
        ]

    def batch_keys(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """(text index, n-gram key) of every n-gram of every text of the batch."""
        docs, keys = [], []
        for n in range(self.low, self.high + 1):
            ok = batch.valid(n, self.limit)
            docs.append(batch.doc[ok])
            keys.append(batch.keys(n)[ok])
        return np.concatenate(docs), np.concatenate(keys)


class LexiconWords:
    """Word 1–2-grams by forward maximum matching over a lexicon learnt at training time.

    jieba segments at ~1,400 texts/s on one core, as slow as the rest of a prediction; so it
    is run only when training, to collect the words (≥ 2 characters, in ≥ 2 training texts'
    segmentations), and texts are then cut by longest match against that set, in training and
    prediction alike. On the tuning folds these words scored the same as jieba's own.
    `batch_keys` finds the longest word at every position with array lookups and walks the
    cut in one Python loop over the words, ~20 µs a message.
    """

    def __init__(self, lexicon: Iterable[str], max_len: int = 6) -> None:
        self.lexicon = frozenset(lexicon)
        self.max_len = max_len
        self.keys_ = np.unique(keys_of(self.lexicon))
        self.starts_ = np.unique(keys_of(w[:2] for w in self.lexicon))

    def words(self, text: str) -> list[str]:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            for size in range(min(self.max_len, n - i), 1, -1):
                if text[i : i + size] in self.lexicon:
                    break
            else:
                size = 1
            out.append(text[i : i + size])
            i += size
        return out

    def __call__(self, text: str) -> list[str]:
        words = self.words(text)
        return words + list(map(" ".join, pairwise(words)))

    def _known(self, keys: np.ndarray) -> np.ndarray:
        if len(self.keys_) == 0:
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys_, keys), len(self.keys_) - 1)
        found: np.ndarray = self.keys_[at] == keys
        return found

    def batch_keys(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        size = len(batch.codes)
        step = np.ones(size, dtype=np.int64)
        # Only positions whose first two characters begin some word are looked up further.
        ok2 = batch.valid(2)
        candidates = np.flatnonzero(ok2)
        if len(candidates) and len(self.keys_):
            starts = self.starts_
            at = np.minimum(np.searchsorted(starts, batch.keys(2)[candidates]), len(starts) - 1)
            candidates = candidates[starts[at] == batch.keys(2)[candidates]]
            for n in range(2, self.max_len + 1):
                pos = candidates[batch.valid(n)[candidates]]
                step[pos[self._known(batch.keys(n)[pos])]] = n
        # The cut: from each text's start, jump over the longest word (or one character).
        jumps = step.tolist()
        cut: list[int] = []
        i = 0
        while i < size:
            cut.append(i)
            i += jumps[i]
        at_word = np.asarray(cut, dtype=np.int64)
        lengths = step[at_word]
        word_keys = np.empty(len(at_word), dtype=np.uint64)
        for n in np.unique(lengths).tolist():
            chosen = lengths == n
            word_keys[chosen] = batch.keys(n)[at_word[chosen]]
        doc = batch.doc[at_word]
        same = doc[1:] == doc[:-1]
        pair_keys = word_keys[:-1][same] * np.uint64(_PAIR) + word_keys[1:][same]
        return np.concatenate([doc, doc[1:][same]]), np.concatenate([word_keys, pair_keys])


def pair_key(first: str, second: str) -> int:
    """The key of the word bigram "first second", as `LexiconWords.batch_keys` makes it."""
    return (key_of(first) * _PAIR + key_of(second)) & _MASK


class NgramTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Sublinear-tf × smooth-idf features, L2-normalised, over n-grams in ≥ min_df texts.

    The n-gram keys are mixed into 2**bits buckets and the buckets seen in fewer than min_df
    training texts are dropped: a pruned vocabulary without a Python dict.
    """

    def __init__(self, analyzer: Analyzer, min_df: int = 1, bits: int = 22) -> None:
        self.analyzer = analyzer
        self.min_df = min_df
        self.bits = bits

    def _buckets(self, keys: np.ndarray) -> np.ndarray:
        return (_mix(keys) >> np.uint64(64 - self.bits)).astype(np.int64)

    def fit(self, docs: Sequence[str] | Batch, y: Any = None) -> NgramTfidf:
        batch = docs if isinstance(docs, Batch) else Batch(docs)
        doc, keys = self.analyzer.batch_keys(batch)
        width = 2**self.bits
        pairs = np.unique(doc * width + self._buckets(keys))
        df = np.bincount(pairs % width, minlength=width)
        kept = np.flatnonzero(df >= self.min_df)
        self.columns_ = np.full(width, -1, dtype=np.int32)
        self.columns_[kept] = np.arange(len(kept), dtype=np.int32)
        n = batch.n_docs
        self.idf_ = (np.log((1 + n) / (1 + df[kept])) + 1).astype(np.float32)
        return self

    @property
    def n_features(self) -> int:
        return len(self.idf_)

    def columns_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """The feature column of each key, -1 for one the model does not keep."""
        return np.asarray(self.columns_[self._buckets(keys)])

    def columns_of(self, grams: Sequence[str]) -> np.ndarray:
        return self.columns_of_keys(keys_of(grams))

    def counts(self, docs: Sequence[str] | Batch) -> sp.csr_matrix:
        batch = docs if isinstance(docs, Batch) else Batch(docs)
        doc, keys = self.analyzer.batch_keys(batch)
        cols = self.columns_of_keys(keys)
        known = cols >= 0
        x = sp.coo_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (doc[known], cols[known])),
            shape=(batch.n_docs, self.n_features),
        ).tocsr()
        x.sum_duplicates()
        return x

    def transform(self, docs: Sequence[str] | Batch) -> sp.csr_matrix:
        x = self.counts(docs)
        np.log(x.data, out=x.data)
        x.data += 1
        x.data *= self.idf_[x.indices]
        return normalize(x, copy=False)

    def row(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """The one text of `batch` as (columns, values), columns ascending: `transform`'s row,
        computed alike step by step (count, 1 + ln tf, × idf, L2) with numpy alone."""
        if batch.n_docs != 1:
            raise ValueError(f"row() takes a batch of one text, not {batch.n_docs}")
        return self.rows(batch)[0]

    def rows(self, batch: Batch) -> list[tuple[np.ndarray, np.ndarray]]:
        """`row` of each text of `batch`, the array work done once for them all (a registrar's
        group is classified together: numpy's fixed cost per call is most of one text's)."""
        doc, keys = self.analyzer.batch_keys(batch)
        cols = self.columns_of_keys(keys)
        known = cols >= 0
        width = self.n_features
        # (text, column) pairs counted at once; sorted by text, then column.
        pairs, counts = np.unique(doc[known] * width + cols[known], return_counts=True)
        columns = pairs % width
        values = np.log(counts.astype(np.float32))
        values += 1
        values *= self.idf_[columns]
        bounds = np.searchsorted(pairs, np.arange(batch.n_docs + 1) * width).tolist()
        return [(columns[a:b], l2_normalised(values[a:b])) for a, b in pairwise(bounds)]

    def fit_transform(self, docs: Sequence[str] | Batch, y: Any = None, **_: Any) -> sp.csr_matrix:
        batch = docs if isinstance(docs, Batch) else Batch(docs)
        return self.fit(batch).transform(batch)


class Blocks:
    """Feature blocks side by side, each scaled by its weight; one `Batch` serves them all."""

    def __init__(self, blocks: Sequence[tuple[str, NgramTfidf, float]]) -> None:
        self.blocks = list(blocks)

    @property
    def transformer_list(self) -> list[tuple[str, NgramTfidf]]:
        return [(name, block) for name, block, _ in self.blocks]

    def _stack(self, batch: Batch, fit: bool) -> sp.csr_matrix:
        parts = []
        for _, block, weight in self.blocks:
            x = block.fit_transform(batch) if fit else block.transform(batch)
            parts.append(x * weight if weight != 1 else x)
        return sp.hstack(parts, format="csr")

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._stack(Batch(texts), fit=True)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._stack(Batch(texts), fit=False)

    def row(self, text: str | Batch) -> tuple[np.ndarray, np.ndarray]:
        """`transform([text])` as (columns, values), columns ascending, without scikit-learn's
        transform wrappers or scipy's sparse matrices (their fixed cost per call is most of a
        one-text prediction). A `Batch` must hold one text."""
        batch = text if isinstance(text, Batch) else Batch([text])
        if batch.n_docs != 1:
            raise ValueError(f"row() takes one text, not {batch.n_docs}")
        return self.rows(batch)[0]

    def rows(self, batch: Batch) -> list[tuple[np.ndarray, np.ndarray]]:
        """`row` of each text of `batch`. Each block's values are weighted as in `_stack` and
        shifted by the widths of the blocks before it, as `sp.hstack` lays them."""
        per_block = []
        offset = 0
        for _, block, weight in self.blocks:
            per_block.append(
                [
                    (cols + offset, vals * weight if weight != 1 else vals)
                    for cols, vals in block.rows(batch)
                ]
            )
            offset += block.n_features
        return [
            (
                np.concatenate([cols for cols, _ in parts]).astype(np.int64),
                np.concatenate([vals for _, vals in parts]),
            )
            for parts in zip(*per_block, strict=True)
        ]


class NBSVM(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """One-vs-rest linear SVMs on log-count-ratio scaled features, folded into coef_."""

    def __init__(
        self,
        c: float = 0.3,
        alpha: float = 1.0,
        class_weight: str | None = "balanced",
        nb_scaling: bool = True,
        random_state: int = 0,
    ) -> None:
        self.c = c
        self.alpha = alpha
        self.class_weight = class_weight
        self.nb_scaling = nb_scaling
        self.random_state = random_state

    def _ratio(self, present: sp.csr_matrix, positive: np.ndarray) -> np.ndarray:
        if not self.nb_scaling:
            return np.ones(present.shape[1], dtype=np.float32)
        p = self.alpha + np.asarray(present[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
        ratio: np.ndarray = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        return ratio

    def fit(self, x: sp.spmatrix, y: Sequence[Any] | np.ndarray) -> NBSVM:
        x = sp.csr_matrix(x)
        y_arr = np.asarray(y)
        self.classes_ = np.unique(y_arr)
        if len(self.classes_) < 2:
            raise ValueError("NBSVM needs at least two classes")
        present = x.copy()
        present.data = np.ones_like(present.data)
        # Two classes need one separator (towards classes_[1]), as in scikit-learn.
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        coefs, intercepts = [], []
        for label in targets:
            positive = y_arr == label
            r = self._ratio(present, positive)
            svm = LinearSVC(
                C=self.c, class_weight=self.class_weight, random_state=self.random_state
            )
            svm.fit(x.multiply(r).tocsr(), positive)
            coefs.append(r * svm.coef_[0])
            intercepts.append(svm.intercept_[0])
        self.coef_ = np.vstack(coefs).astype(np.float32)
        self.intercept_ = np.asarray(intercepts, dtype=np.float32)
        return self

    def decision_function(self, x: sp.spmatrix) -> np.ndarray:
        scores = np.asarray(x @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, x: sp.spmatrix) -> np.ndarray:
        scores = self.decision_function(x)
        chosen = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        labels: np.ndarray = self.classes_[chosen]
        return labels


def l2_normalised(values: np.ndarray) -> np.ndarray:
    """One row's float32 values scaled to unit L2 norm exactly as scikit-learn's `normalize` scales
    a CSR row (sparsefuncs_fast: float32 squares added one by one into a float64 sum in column
    order, the float32 values divided by its float64 square root); an all-zero row is kept."""
    total = float(np.cumsum(values * values, dtype=np.float64)[-1]) if len(values) else 0.0
    if total == 0.0:
        return values
    scaled: np.ndarray = (values.astype(np.float64) / math.sqrt(total)).astype(values.dtype)
    return scaled


def scaled_min_df(rate: float, n_texts: int) -> int:
    # A count that grows with the corpus: 5 of the 8,000 texts of a CV fold is 6 of 10,000.
    return max(1, math.floor(rate * n_texts + 0.5))


def learn_lexicon(texts: Sequence[str], min_count: int = 2, max_len: int = 6) -> set[str]:
    import jieba  # imported lazily: loading its dictionary takes a second

    jieba.setLogLevel(60)
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update({w for w in jieba.lcut(text, HMM=False) if 2 <= len(w) <= max_len})
    return {w for w, k in seen.items() if k >= min_count}
