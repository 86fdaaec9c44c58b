"""The classifier's parts: n-gram TF-IDF with a pruned hashed vocabulary, word n-grams, NB-SVM.

Pruning matters here: on the teddycup2020_c tuning folds (docs/triage.md) dropping the character
n-grams seen in fewer than 3 of 8,000 training texts raised NB-SVM's macro-F1 from 0.915 to
0.925 (calibrated: 0.929, and 0.932 at 5 texts), since its log-count ratios are noise for rare
n-grams; calibrated NB-SVM on unpruned hashed n-grams scored 0.920.
The n-grams are hashed in C (as scikit-learn's HashingVectorizer does) and the rare buckets are
dropped after hashing: looking ~1,600 n-grams per message up in a Python dict costs 0.6 ms,
hashing them 0.1 ms.

NB-SVM (Wang & Manning 2012, "Baselines and Bigrams"): for each class, the features are scaled
by the log-count ratio r = log((p/|p|₁) / (q/|q|₁)) of the class against the rest (p, q: smoothed
document counts), and a binary linear SVM is fitted on the scaled features. Since
(x∘r)·w = x·(r∘w), the fitted model is an ordinary linear model with coef = r∘w: prediction costs
one sparse product, as for a plain LinearSVC, and `coef_` still explains a decision.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from operator import add
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC


class CharGrams:
    # A class, not a closure, so that joblib can pickle the fitted pipeline. `limit` keeps
    # only the first characters (the head block).
    def __init__(self, low: int, high: int, limit: int | None = None) -> None:
        self.low, self.high, self.limit = low, high, limit

    def __call__(self, text: str) -> list[str]:
        if self.limit is not None:
            text = text[: self.limit]
        # Built by concatenating shifted copies in C (map/add) rather than by slicing in a
        # Python loop: 3× faster, and this is half the cost of a prediction.
        out: list[str] = []
        grams: Iterable[str] = text
        for n in range(1, self.high + 1):
            if n > 1:
                grams = list(map(add, grams, text[n - 1 :]))
            if n >= self.low:
                out.extend(grams)
        return out


def _single(feature: str) -> list[str]:
    return [feature]


class NgramTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Sublinear-tf × smooth-idf features, L2-normalised, over n-grams in ≥ min_df texts.

    The n-grams are hashed (murmurhash in C) into 2**bits buckets and the buckets seen in
    fewer than min_df training texts are dropped: a pruned vocabulary without a Python dict,
    whose lookups of ~1,600 n-grams per message cost 0.6 ms against 0.1 ms hashed.
    """

    def __init__(
        self, analyzer: Callable[[str], list[str]], min_df: int = 1, bits: int = 22
    ) -> None:
        self.analyzer = analyzer
        self.min_df = min_df
        self.bits = bits

    def _hasher(self, analyzer: Callable[[str], list[str]]) -> HashingVectorizer:
        return HashingVectorizer(
            analyzer=analyzer,
            n_features=2**self.bits,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )

    def fit(self, docs: Sequence[str], y: Any = None) -> NgramTfidf:
        hashed = self._hasher(self.analyzer).transform(docs)
        df = np.bincount(hashed.indices, minlength=2**self.bits)
        kept = np.flatnonzero(df >= self.min_df)
        self.columns_ = np.full(2**self.bits, -1, dtype=np.int32)
        self.columns_[kept] = np.arange(len(kept), dtype=np.int32)
        n = len(docs)
        self.idf_ = (np.log((1 + n) / (1 + df[kept])) + 1).astype(np.float32)
        return self

    @property
    def n_features(self) -> int:
        return len(self.idf_)

    def columns_of(self, grams: Sequence[str]) -> np.ndarray:
        """The feature column of each n-gram, -1 for one the model does not keep."""
        if not grams:
            return np.zeros(0, dtype=np.int32)
        hashed = self._hasher(_single).transform(grams)
        return np.asarray(self.columns_[hashed.indices])

    def counts(self, docs: Iterable[str]) -> sp.csr_matrix:
        hashed = self._hasher(self.analyzer).transform(docs)
        cols = self.columns_[hashed.indices]
        known = cols >= 0
        kept_before = np.concatenate([[0], np.cumsum(known)])
        return sp.csr_matrix(
            (hashed.data[known], cols[known], kept_before[hashed.indptr]),
            shape=(hashed.shape[0], self.n_features),
        )

    def transform(self, docs: Iterable[str]) -> sp.csr_matrix:
        x = self.counts(docs)
        np.log(x.data, out=x.data)
        x.data += 1
        x.data *= self.idf_[x.indices]
        return normalize(x, copy=False)

    def fit_transform(self, docs: Sequence[str], y: Any = None, **_: Any) -> sp.csr_matrix:
        return self.fit(docs).transform(docs)


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


def scaled_min_df(rate: float, n_texts: int) -> int:
    # A count that grows with the corpus: 5 of the 8,000 texts of a CV fold is 6 of 10,000.
    return max(1, math.floor(rate * n_texts + 0.5))


class LexiconWords:
    """Word 1–2-grams by forward maximum matching over a lexicon learnt at training time.

    jieba segments at ~1,400 texts/s on one core, as slow as the rest of a prediction; so it
    is run only when training, to collect the words (≥ 2 characters, in ≥ 2 training texts'
    segmentations), and texts are then cut by longest match against that set, in training and
    prediction alike (~3,000 texts/s). On the tuning folds these words scored the same as
    jieba's own (0.929 both, with the char blocks).
    """

    def __init__(self, lexicon: Iterable[str], max_len: int = 6) -> None:
        self.lexicon = frozenset(lexicon)
        self.max_len = max_len

    def words(self, text: str) -> list[str]:
        lexicon, starts = self.lexicon, self._starts()
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            # Most positions start no word: one set lookup of two characters says so.
            if text[i : i + 2] in starts:
                for size in range(min(self.max_len, n - i), 1, -1):
                    if text[i : i + size] in lexicon:
                        out.append(text[i : i + size])
                        i += size
                        break
                else:
                    out.append(text[i])
                    i += 1
            else:
                out.append(text[i])
                i += 1
        return out

    def _starts(self) -> frozenset[str]:
        starts: frozenset[str] | None = getattr(self, "starts_", None)
        if starts is None:
            starts = frozenset(w[:2] for w in self.lexicon)
            self.starts_ = starts
        return starts

    def __call__(self, text: str) -> list[str]:
        words = self.words(text)
        return words + list(map(" ".join, pairwise(words)))


def learn_lexicon(texts: Sequence[str], min_count: int = 2, max_len: int = 6) -> set[str]:
    import jieba  # imported lazily: loading its dictionary takes a second

    jieba.setLogLevel(60)
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update({w for w in jieba.lcut(text, HMM=False) if 2 <= len(w) <= max_len})
    return {w for w, k in seen.items() if k >= min_count}
