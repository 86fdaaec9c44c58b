"""Category (level 1) text classifier: pruned n-gram TF-IDF, NB-SVMs stacked into one linear model.

Character n-grams need no word segmentation and are robust to the typos and run-together text
of citizens' messages; word 1–2-grams add a little (+0.002 over five folds). jieba would cost as
much time as the whole rest of a prediction (~1,400 texts/s on one core), so it only learns a
lexicon at training time and texts are cut by longest match against it (`ngrams.LexiconWords`;
`words=False` drops the block). The main model is NB-SVM (`ngrams.NBSVM`), which measured about
+0.008 macro-F1 over a plain LinearSVC on the same features. NB-SVMs on views of the blocks and a
LinearSVC are combined by a multinomial logistic regression fitted on their out-of-fold scores
(`Stacked`): it gives the probabilities the agent is shown (auto-dispatch needs a
threshold that means something) and measured +0.005 over Platt-calibrated NB-SVM on inner
validation splits, +0.002 on the bench's outer folds (figures in docs/triage.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.svm import LinearSVC

from jiesu.triage.ngrams import (
    NBSVM,
    Batch,
    Blocks,
    CharGrams,
    LexiconWords,
    NgramTfidf,
    learn_lexicon,
    scaled_min_df,
)
from jiesu.triage.text import nfkc

__all__ = ["CharGrams", "Params", "Stacked", "TextModel", "evaluate", "normalise", "train"]

_SPACE = re.compile(r"\s+")
EXPLAIN_CHARS = 400
# A registrar's group is primed at once (at most 32 texts, cases/registrar.py).
RECENT_ROWS = 64
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    # Full-width forms folded, case folded, whitespace dropped: a tokenised text ("噪音 扰民")
    # and a raw one ("噪音扰民") give the same character n-grams. Digit runs become one 0,
    # since house numbers and dates carry no category.
    t = nfkc(text).lower()
    return _DIGITS.sub("0", _SPACE.sub("", t))


def _scores(model: Any, x: sp.csr_matrix) -> np.ndarray:
    s = np.asarray(model.decision_function(x), dtype=np.float32)
    return s[:, None] if s.ndim == 1 else s


class Stacked(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Linear models on column views, combined by a multinomial logistic regression.

    Each base model is fitted on its view of the columns; the combiner is fitted on their
    out-of-fold scores (so it learns how far to trust each, and turns scores into
    probabilities), and the bases are then refitted on all the data. Everything is linear,
    so the whole is folded into one weight matrix, coef = A·W (A: the combiner's weights, W:
    the bases' weights laid over all the columns): predicting costs one sparse product, and
    `coef_` explains a decision as NB-SVM's did.
    """

    def __init__(
        self,
        bases: Sequence[tuple[str, Any, slice | None]],
        folds: int = 3,
        meta_c: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.bases = bases
        self.folds = folds
        self.meta_c = meta_c
        self.random_state = random_state

    def fit(self, x: sp.spmatrix, y: Sequence[Any] | np.ndarray) -> Stacked:
        from sklearn.base import clone
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        x = sp.csr_matrix(x)
        y_arr = np.asarray(y)
        self.classes_ = np.unique(y_arr)
        # Plain stratified folds (every class in every fitting part when each has ≥ folds
        # texts): folds that kept near-duplicate groups apart scored the same on the inner
        # validation splits (docs/triage.md).
        splitter = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        folds = list(splitter.split(x, y_arr))
        # A view is a run of adjacent blocks: a slice of the columns.
        views = [x if cols is None else x[:, cols] for _, _, cols in self.bases]
        out_of_fold = []
        for (_, base, _), view in zip(self.bases, views, strict=True):
            parts = [
                (held, _scores(clone(base).fit(view[fit], y_arr[fit]), view[held]))
                for fit, held in folds
            ]
            scores = np.zeros((len(y_arr), parts[0][1].shape[1]), dtype=np.float32)
            for held, s in parts:
                scores[held] = s
            out_of_fold.append(scores)
        meta = LogisticRegression(C=self.meta_c, max_iter=5000)
        meta.fit(np.hstack(out_of_fold), y_arr)
        weights, offsets = [], []
        for (_, base, cols), view in zip(self.bases, views, strict=True):
            fitted = clone(base).fit(view, y_arr)
            coef = np.asarray(fitted.coef_, dtype=np.float32)
            full = np.zeros((coef.shape[0], x.shape[1]), dtype=np.float32)
            full[:, slice(None) if cols is None else cols] = coef
            weights.append(full)
            offsets.append(np.asarray(fitted.intercept_, dtype=np.float32).ravel())
        a = meta.coef_.astype(np.float32)
        self.coef_ = a @ np.vstack(weights)
        self.intercept_ = (a @ np.concatenate(offsets) + meta.intercept_).astype(np.float32)
        return self

    @cached_property
    def _coef_t(self) -> np.ndarray:
        # coef_.T is a strided view, and sparse @ dense copies a non-contiguous operand on every
        # call (megabytes: most of a one-text prediction); the contiguous transpose is made once
        # per process and never saved (__getstate__).
        return np.ascontiguousarray(self.coef_.T)

    def decision_function(self, x: sp.spmatrix) -> np.ndarray:
        return _one_logit(np.asarray(x @ self._coef_t) + self.intercept_)

    def terms(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The products value × weight of one row given as (columns, values), columns ascending:
        (n_columns, n_outputs), what the sparse product adds up for the row (and what explains
        it, column by column)."""
        terms: np.ndarray = values[:, None] * self._coef_t[columns]
        return terms

    def decision_row(self, terms: np.ndarray) -> np.ndarray:
        """`decision_function` of one row from its `terms`, without a sparse matrix. scipy's
        product adds a row's terms one by one in column order; a cumulative sum does the same
        additions in the same order (a BLAS product groups them otherwise: other last bits)."""
        if len(terms):
            total = np.cumsum(terms, axis=0)[-1]
        else:
            total = np.zeros(terms.shape[1], dtype=terms.dtype)
        return _one_logit((total + self.intercept_)[None, :])

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())
        state.pop("_coef_t", None)
        return state

    def predict_proba(self, x: sp.spmatrix) -> np.ndarray:
        return _probabilities(self.decision_function(x))

    def predict_proba_row(self, terms: np.ndarray) -> np.ndarray:
        """`predict_proba` of one row from its `terms`: a (1, n_classes) array."""
        return _probabilities(self.decision_row(terms))

    def predict(self, x: sp.spmatrix) -> np.ndarray:
        labels: np.ndarray = self.classes_[self.predict_proba(x).argmax(axis=1)]
        return labels


def _one_logit(scores: np.ndarray) -> np.ndarray:
    return scores.ravel() if scores.shape[1] == 1 else scores


def _probabilities(scores: np.ndarray) -> np.ndarray:
    if scores.ndim == 1:  # two classes: one logit, towards classes_[1]
        p = 1 / (1 + np.exp(-scores))
        return np.column_stack([1 - p, p])
    scores -= scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    proba: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return proba


@dataclass(frozen=True)
class Params:
    char_ngrams: tuple[int, int] = (1, 4)
    # An n-gram is kept if it occurs in at least rate × n_texts training texts (5 of 8,000):
    # rarer ones make NB-SVM's log-count ratios noisy (min_df 1 / 3 / 5 / 8 on the tuning
    # folds: 0.915 / 0.925 / 0.932 / 0.932).
    min_df_rate: float = 6e-4
    c: float = 0.3
    # Smoothing of NB-SVM's class counts; nb_scaling=False gives a plain one-vs-rest SVM.
    nb_alpha: float = 1.0
    nb_scaling: bool = True
    # Word 1–2-grams (ngrams.LexiconWords): +0.002 on the five folds, +0.004 on the three
    # not used for tuning.
    words: bool = True
    words_min_df_rate: float = 2.5e-4
    # The models combined (Stacked, above): NB-SVM on all blocks, on char + head, on word +
    # head, and a plain LinearSVC (C = svc_c) on all; a multinomial logistic regression
    # (C = meta_c) fitted on their out-of-fold scores over `calibration_folds` folds weighs
    # them and gives the probabilities. ("nbsvm",) alone is one NB-SVM, calibrated so.
    stack: tuple[str, ...] = ("nbsvm", "nbsvm_char", "nbsvm_word", "svc")
    svc_c: float = 0.5
    meta_c: float = 1.0
    calibration_folds: int = 3
    # The opening of a message is its subject (留言主题) or the first words of the call: its
    # n-grams get a second, down-weighted block of their own (0 turns it off).
    head_chars: int = 40
    head_ngrams: tuple[int, int] = (1, 3)
    head_min_df_rate: float = 3.7e-4
    head_weight: float = 0.5
    # "balanced" weighs each side of every one-vs-rest SVM inversely to its frequency, so that
    # the small classes (交通运输 has a third of 城乡建设's texts) count as they do for macro-F1.
    class_weight: str | None = "balanced"


def _features(p: Params, texts: Sequence[str]) -> Blocks:
    n_texts = len(texts)
    min_df = scaled_min_df(p.min_df_rate, n_texts)
    parts: list[tuple[str, NgramTfidf, float]] = [
        ("char", NgramTfidf(CharGrams(*p.char_ngrams), min_df), 1.0)
    ]
    if p.head_chars > 0 and p.head_weight > 0:
        head_min_df = scaled_min_df(p.head_min_df_rate, n_texts)
        head = NgramTfidf(CharGrams(*p.head_ngrams, limit=p.head_chars), head_min_df)
        parts.append(("head", head, p.head_weight))
    if p.words:
        lexicon = learn_lexicon(texts)
        words_min_df = scaled_min_df(p.words_min_df_rate, len(texts))
        parts.append(("word", NgramTfidf(LexiconWords(lexicon), words_min_df), 1.0))
    return Blocks(parts)


class TextModel:
    """A fitted classifier; build it with `train` or `model_store.load_model`, store it with
    `model_store.save_model` (which imports this module, never the other way round).

    One text (a registration's triage) takes a lean path: its features as (columns, values) in
    numpy (`Blocks.row`), its scores as the sum of its terms value × weight (`Stacked.terms`),
    which explain then reads too. The sums are the batch path's, in the same order: the same
    probabilities to the bit, without the fixed cost per call of scikit-learn's transform
    wrappers and scipy's sparse matrices (~3.6 → ~0.9 ms for predict_top + explain)."""

    def __init__(
        self,
        features: Blocks,
        classifier: Stacked,
        params: Params,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.features = features
        self.classifier = classifier
        self.params = params
        self.info: dict[str, Any] = dict(info or {})
        # The last few texts' rows: a proposal classifies a text, then explains its top label
        # from the same row.
        self._recent: dict[str, _Row] = {}

    @cached_property
    def _labels(self) -> tuple[str, ...]:
        # Asked for by every prediction and explanation; the classifier never changes.
        return tuple(str(c) for c in self.classifier.classes_)

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def version(self) -> str | None:
        v = self.info.get("model_version")
        return str(v) if v is not None else None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:  # triage: one text, then explained with the same features
            # The batch path's arithmetic on one row in numpy: no transformer, no sparse matrix.
            return self.classifier.predict_proba_row(self._row(texts[0]).terms)
        x = self.features.transform([normalise(t) for t in texts])
        return np.asarray(self.classifier.predict_proba(x))

    def _row(self, text: str) -> _Row:
        """One text's row (the batch path's features and products, in arrays), from the last
        few texts when it is one of them."""
        row = self._recent.get(text)
        if row is None:
            norm = normalise(text)
            batch = Batch([norm])
            columns, values = self.features.row(batch)
            row = _Row(norm, batch, columns, self.classifier.terms(columns, values))
            if len(self._recent) >= RECENT_ROWS:
                self._recent.clear()
            self._recent[text] = row
        return row

    def prime(self, texts: Sequence[str]) -> None:
        """Make the one-text rows of `texts` together, for the proposals about to ask for them
        one by one (the registrar's group): the same rows, numpy's fixed cost paid once."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._recent))
        if len(todo) < 2:  # one text alone: its own path costs less (bench/serve/bench_prime.py)
            return
        if len(todo) > RECENT_ROWS:
            todo = todo[:RECENT_ROWS]
        if len(self._recent) + len(todo) > RECENT_ROWS:
            self._recent.clear()
        norms = [normalise(t) for t in todo]
        batch = Batch(norms)
        rows = self.features.rows(batch)
        if not rows:
            return
        columns = np.concatenate([cols for cols, _ in rows])
        terms = self.classifier.terms(columns, np.concatenate([vals for _, vals in rows]))
        at = 0
        for i, (text, norm, (cols, _)) in enumerate(zip(todo, norms, rows, strict=True)):
            self._recent[text] = _Row(norm, batch.one(i), cols, terms[at : at + len(cols)])
            at += len(cols)

    def predict(self, texts: Sequence[str]) -> list[str]:
        labels = self._labels
        return [labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def predict_top(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        proba = self.predict_proba(texts)
        labels = self._labels
        out = []
        for row in proba:
            order = np.argsort(-row)[:k]
            out.append([(labels[i], float(row[i])) for i in order])
        return out

    def explain(self, text: str, label: str, n: int = 5) -> list[str]:
        """The n-grams of `text` that pushed it most towards `label` (tf-idf × weight)."""
        if label not in self._labels:
            raise ValueError(f"unknown label {label!r}; the model knows {self.labels}")
        # The row's own terms value × weight: a dense row would span the whole feature space
        # (megabytes), and the weights of its columns only were read by the prediction.
        norm, batch, columns, terms = self._row(text)
        index = self._labels.index(label)
        if terms.shape[1] == 1:  # binary: one weight vector, positive towards classes_[1]
            towards = terms[:, 0] * (1.0 if index == 1 else -1.0)
        else:
            towards = terms[:, index]
        # The opening carries the subject; explaining only it keeps a call within a few ms.
        starts, sizes, keys = _head_grams(batch, EXPLAIN_CHARS, *self.params.char_ngrams)
        if len(keys) == 0:
            return []
        contrib = np.zeros(len(keys))
        offset = 0
        # The union lays the blocks side by side: a gram's column in a char block is its
        # column in that block plus the widths of the blocks before it (terms are weighted).
        for name, block in self.features.transformer_list:
            if name in ("char", "head"):
                cols = block.columns_of_keys(keys)
                known = cols >= 0
                contrib[known] += _values_at(columns, towards, offset + cols[known])
            offset += block.n_features
        picked: list[str] = []
        # The grams that pushed towards the label, most first (argsort as before: same ties).
        ranked = np.argsort(-contrib)[: np.count_nonzero(contrib > 0)]
        for start, size in zip(starts[ranked].tolist(), sizes[ranked].tolist(), strict=True):
            if len(picked) == n:
                break
            gram = norm[start : start + size]
            # One character says little and a gram inside a chosen one says nothing new.
            if len(gram) < 2 or not gram.isalnum() or any(gram in q or q in gram for q in picked):
                continue
            picked.append(gram)
        return picked


class _Row(NamedTuple):
    """One text on the one-text path: normalised, as a Batch (its n-gram keys), its feature
    columns (ascending) and their terms value × weight (`Stacked.terms`)."""

    norm: str
    batch: Batch
    columns: np.ndarray
    terms: np.ndarray


def _values_at(columns: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A row's value at each column of `at` (0 where it has none); `columns` ascending."""
    if len(columns) == 0:
        return np.zeros(len(at), dtype=values.dtype)
    pos = np.minimum(np.searchsorted(columns, at), len(columns) - 1)
    found: np.ndarray = np.where(columns[pos] == at, values[pos], values.dtype.type(0))
    return found


def _head_grams(
    batch: Batch, limit: int, low: int, high: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct low…high-grams in the first `limit` characters of a one-text `batch`, as
    (starts, sizes, keys), in the order of the gram strings (explain ranks them so, and its ties
    fall as when it sorted the strings themselves). Keys come from the batch, order from its
    code points; no string is built here, explain cuts the few it looks at."""
    m = min(len(batch.codes), limit)
    lengths = [n for n in range(low, high + 1) if n <= m]
    if not lengths:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, np.uint64)
    counts = [m - n + 1 for n in lengths]
    starts = np.concatenate([np.arange(c) for c in counts])
    sizes = np.repeat(lengths, counts)
    keys = np.concatenate([batch.keys(n)[:c] for n, c in zip(lengths, counts, strict=True)])
    # Python orders strings by code point, a prefix before its extensions: the grams compare as
    # the ranks (1…) of their characters among the head's code points do, position by position,
    # with 0 past a gram's end.
    distinct, rank = np.unique(batch.codes[:m], return_inverse=True)
    ranks = np.concatenate([rank.astype(np.int64) + 1, np.zeros(high, dtype=np.int64)])
    bits = len(distinct).bit_length()
    if bits * high <= 63:  # a gram's ranks packed in one integer, ordered as the strings are
        packed, parts = np.zeros(m, dtype=np.int64), []
        for n in range(1, lengths[-1] + 1):
            packed = packed[: m - n + 1] | (ranks[n - 1 : m] << (bits * (high - n)))
            if n >= low:
                parts.append(packed)
        packed = np.concatenate(parts)
        order = np.argsort(packed)
        ordered = packed[order][None, :]
    else:
        by_char = [np.where(sizes > k, ranks[starts + k], 0) for k in range(high)]
        order = np.lexsort(by_char[::-1])
        ordered = np.stack(by_char)[:, order]
    # One of each run of equal grams (which occurrence does not matter: same string, same key).
    first = np.ones(len(order), dtype=bool)
    first[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    chosen = order[first]
    return starts[chosen], sizes[chosen], keys[chosen]


def _bases(p: Params, features: Blocks, seed: int) -> list[tuple[str, Any, slice | None]]:
    widths = {name: block.n_features for name, block in features.transformer_list}
    char = widths["char"] + widths.get("head", 0)
    views: dict[str, slice | None] = {"nbsvm": None, "svc": None}
    if "word" in widths:  # the blocks lie char | head | word
        views["nbsvm_char"] = slice(0, char)
        views["nbsvm_word"] = slice(widths["char"], char + widths["word"])
    bases: list[tuple[str, Any, slice | None]] = []
    for name in p.stack:
        if name not in views:
            continue  # a view of a block this model does not have
        if name == "svc":
            model: Any = LinearSVC(C=p.svc_c, class_weight=p.class_weight, random_state=seed)
        else:
            model = NBSVM(
                c=p.c,
                alpha=p.nb_alpha,
                class_weight=p.class_weight,
                nb_scaling=p.nb_scaling,
                random_state=seed,
            )
        bases.append((name, model, views[name]))
    if not bases:
        raise ValueError(f"no usable model in stack={p.stack!r}")
    return bases


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    params: Params | None = None,
) -> TextModel:
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    if len(classes) < 2:
        raise ValueError("training needs at least two distinct labels")
    p = params or Params()
    # Calibration needs every class in every fold; tiny classes get fewer folds.
    folds = max(2, min(p.calibration_folds, int(counts.min())))
    if counts.min() < 2:
        raise ValueError(
            f"every label needs at least 2 examples; {classes[counts.argmin()]!r} has 1"
        )
    started = time.perf_counter()
    normalised = [normalise(t) for t in texts]
    features = _features(p, normalised)
    x = features.fit_transform(normalised)
    bases = _bases(p, features, seed)
    classifier = Stacked(bases, folds=folds, meta_c=p.meta_c, random_state=seed)
    classifier.fit(x, list(labels))
    settings = asdict(p)
    settings["calibration_folds"] = folds
    settings["stack"] = [name for name, _, _ in bases]
    settings["min_df"] = features.transformer_list[0][1].min_df
    settings["n_features"] = int(x.shape[1])
    info = {
        "n_train": len(texts),
        "train_seconds": round(time.perf_counter() - started, 2),
        "label_counts": {str(c): int(k) for c, k in zip(classes, counts, strict=True)},
        "params": settings,
        "seed": seed,
    }
    return TextModel(features, classifier, p, info)


def evaluate(model: TextModel, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    if not texts:
        raise ValueError("nothing to evaluate: no texts")
    started = time.perf_counter()
    predicted = model.predict(texts)
    elapsed = max(time.perf_counter() - started, 1e-9)
    names = sorted(set(labels) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(
        list(labels), predicted, labels=names, zero_division=0
    )
    per_class = {
        name: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, name in enumerate(names)
    }
    return {
        "macro_f1": round(float(f1_score(list(labels), predicted, average="macro")), 4),
        "accuracy": round(float(accuracy_score(list(labels), predicted)), 4),
        "n": len(texts),
        "texts_per_second": round(len(texts) / elapsed, 1),
        "per_class": per_class,
    }
