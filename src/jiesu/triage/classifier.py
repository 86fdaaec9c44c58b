"""Category (level 1) text classifier: TF-IDF n-grams and a calibrated linear SVM.

Character n-grams need no word segmentation, are robust to the typos and run-together text of
citizens' messages, and run at thousands of texts per second; jieba word n-grams measured no
better on the competition data and cost three times the time (figures in docs/triage.md), so they
are an option (`words=True`), not the default. The SVM's margins are turned into probabilities by
Platt scaling fitted on held-out folds (CalibratedClassifierCV), because the agent is shown a
confidence and auto-dispatch needs a threshold that means something.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

_SPACE = re.compile(r"\s+")
EXPLAIN_CHARS = 400
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    # Full-width forms folded, case folded, whitespace dropped: a tokenised text ("噪音 扰民")
    # and a raw one ("噪音扰民") give the same character n-grams. Digit runs become one 0,
    # since house numbers and dates carry no category.
    t = unicodedata.normalize("NFKC", text).lower()
    return _DIGITS.sub("0", _SPACE.sub("", t))


def _jieba_words(text: str) -> list[str]:
    import jieba  # imported lazily: loading its dictionary takes a second

    return [w for w in jieba.lcut(text, HMM=False) if len(w) > 1 or "\u4e00" <= w <= "\u9fff"]


@dataclass(frozen=True)
class Params:
    char_ngrams: tuple[int, int] = (1, 3)
    hash_bits: int = 20
    c: float = 1.0
    words: bool = False
    calibration_folds: int = 3
    # The opening of a message is its subject (留言主题) or the first words of the call: its
    # n-grams get a second, down-weighted block of their own (0 turns it off).
    head_chars: int = 40
    head_weight: float = 0.5
    # "balanced" weighs each class inversely to its frequency, so that the small classes
    # (交通运输 has a third of 城乡建设's texts) count as much for the SVM as for macro-F1.
    class_weight: str | None = "balanced"


class CharGrams:
    # A class, not a closure, so that joblib can pickle the fitted pipeline. `limit` keeps
    # only the first characters (the head block).
    def __init__(self, low: int, high: int, limit: int | None = None) -> None:
        self.low, self.high, self.limit = low, high, limit

    def __call__(self, text: str) -> list[str]:
        limit = getattr(self, "limit", None)  # models saved before the head block lack it
        if limit is not None:
            text = text[:limit]
        return [
            text[i : i + n]
            for n in range(self.low, self.high + 1)
            for i in range(len(text) - n + 1)
        ]


def _single(feature: str) -> list[str]:
    return [feature]


def _hasher(p: Params, analyzer: Any) -> HashingVectorizer:
    # Hashing instead of a vocabulary: the dictionary lookup of a fitted TfidfVectorizer is
    # the slowest step of prediction (840 texts/s against 1,300 hashed on one core).
    return HashingVectorizer(
        analyzer=analyzer,
        n_features=2**p.hash_bits,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _features(p: Params) -> FeatureUnion:
    parts: list[tuple[str, Any]] = [
        (
            "char",
            make_pipeline(
                _hasher(p, CharGrams(*p.char_ngrams)), TfidfTransformer(sublinear_tf=True)
            ),
        )
    ]
    weights: dict[str, float] = {}
    if p.head_chars > 0 and p.head_weight > 0:
        parts.append(
            (
                "head",
                make_pipeline(
                    _hasher(p, CharGrams(*p.char_ngrams, limit=p.head_chars)),
                    TfidfTransformer(sublinear_tf=True),
                ),
            )
        )
        weights["head"] = p.head_weight
    if p.words:
        parts.append(
            (
                "word",
                make_pipeline(_hasher(p, _jieba_words), TfidfTransformer(sublinear_tf=True)),
            )
        )
    return FeatureUnion(parts, transformer_weights=weights or None)


class TextModel:
    """A fitted classifier; build it with `train` or `load_model`."""

    def __init__(
        self,
        features: FeatureUnion,
        classifier: CalibratedClassifierCV,
        params: Params,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.features = features
        self.classifier = classifier
        self.params = params
        self.info: dict[str, Any] = dict(info or {})

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    @property
    def version(self) -> str | None:
        v = self.info.get("model_version")
        return str(v) if v is not None else None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        x = self.features.transform([normalise(t) for t in texts])
        return np.asarray(self.classifier.predict_proba(x))

    def predict(self, texts: Sequence[str]) -> list[str]:
        labels = self.labels
        return [labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def predict_top(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        proba = self.predict_proba(texts)
        labels = self.labels
        out = []
        for row in proba:
            order = np.argsort(-row)[:k]
            out.append([(labels[i], float(row[i])) for i in order])
        return out

    def save(self, directory: str | Path, *, metrics: dict[str, Any] | None = None) -> Path:
        from jiesu.triage.model_store import save_model

        return save_model(self, Path(directory), metrics=metrics)

    def _svm(self) -> LinearSVC:
        # With ensemble=False the calibrator wraps one SVM fitted on all the training data.
        return self.classifier.calibrated_classifiers_[0].estimator

    def explain(self, text: str, label: str, n: int = 5) -> list[str]:
        """The n-grams of `text` that pushed it most towards `label` (tf-idf × SVM weight)."""
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; the model knows {self.labels}")
        norm = normalise(text)
        x = np.asarray(self.features.transform([norm]).todense()).ravel()
        coef = self._svm().coef_
        index = self.labels.index(label)
        if coef.shape[0] == 1:  # binary: one weight vector, positive towards classes_[1]
            weights = np.asarray(coef[0]).ravel() * (1.0 if index == 1 else -1.0)
        else:
            weights = np.asarray(coef[index]).ravel()
        # Hashed features have no names: hash each n-gram of the text alone to find its column
        # (the union puts the character block first, then the head block if there is one).
        # The opening carries the subject; explaining only it keeps a call within a few ms.
        grams = sorted(set(CharGrams(*self.params.char_ngrams)(norm[:EXPLAIN_CHARS])))
        if not grams:
            return []
        cols = _hasher(self.params, _single).transform(grams).indices
        contrib = x[cols] * weights[cols]
        if "head" in dict(self.features.transformer_list):
            # x is weighted already, and zero there for grams that are not in the opening.
            head = cols + 2**self.params.hash_bits
            contrib = contrib + x[head] * weights[head]
        picked: list[str] = []
        for j in np.argsort(-contrib):
            if contrib[j] <= 0 or len(picked) == n:
                break
            gram = grams[j]
            # One character says little and a gram inside a chosen one says nothing new.
            if len(gram) < 2 or not gram.isalnum() or any(gram in q or q in gram for q in picked):
                continue
            picked.append(gram)
        return picked


def train(
    texts: Sequence[str], labels: Sequence[str], *, seed: int = 0, params: Params | None = None
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
    features = _features(p)
    x = features.fit_transform([normalise(t) for t in texts])
    svm = LinearSVC(C=p.c, class_weight=p.class_weight, random_state=seed)
    classifier = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
    classifier.fit(x, list(labels))
    info = {
        "n_train": len(texts),
        "train_seconds": round(time.perf_counter() - started, 2),
        "label_counts": {str(c): int(k) for c, k in zip(classes, counts, strict=True)},
        "params": {
            "char_ngrams": list(p.char_ngrams),
            "hash_bits": p.hash_bits,
            "c": p.c,
            "words": p.words,
            "calibration_folds": folds,
            "head_chars": p.head_chars,
            "head_weight": p.head_weight,
            "class_weight": p.class_weight,
        },
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
