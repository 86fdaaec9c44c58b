"""Category (level 1) text classifier: pruned n-gram TF-IDF, NB-SVM, Platt-calibrated.

Character n-grams need no word segmentation and are robust to the typos and run-together text
of citizens' messages; word 1–2-grams add a little (+0.002 over five folds). jieba would cost as
much time as the whole rest of a prediction (~1,400 texts/s on one core), so it only learns a
lexicon at training time and texts are cut by longest match against it (`ngrams.LexiconWords`;
`words=False` drops the block). The classifier is NB-SVM (`ngrams.NBSVM`),
which measured about +0.008 macro-F1 over a plain LinearSVC on the same features (figures in
docs/triage.md). Margins are turned into probabilities by Platt scaling fitted on held-out folds
(CalibratedClassifierCV), because the agent is shown a confidence and auto-dispatch needs a
threshold that means something; it also adds ~0.003 macro-F1, as the per-class sigmoids put the
one-vs-rest margins on one scale.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion

from jiesu.triage.ngrams import (
    NBSVM,
    CharGrams,
    LexiconWords,
    NgramTfidf,
    learn_lexicon,
    scaled_min_df,
)

__all__ = ["CharGrams", "Params", "TextModel", "evaluate", "normalise", "train"]

_SPACE = re.compile(r"\s+")
EXPLAIN_CHARS = 400
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    # Full-width forms folded, case folded, whitespace dropped: a tokenised text ("噪音 扰民")
    # and a raw one ("噪音扰民") give the same character n-grams. Digit runs become one 0,
    # since house numbers and dates carry no category.
    t = unicodedata.normalize("NFKC", text).lower()
    return _DIGITS.sub("0", _SPACE.sub("", t))


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


def _features(p: Params, texts: Sequence[str]) -> FeatureUnion:
    n_texts = len(texts)
    min_df = scaled_min_df(p.min_df_rate, n_texts)
    parts: list[tuple[str, Any]] = [("char", NgramTfidf(CharGrams(*p.char_ngrams), min_df))]
    weights: dict[str, float] = {}
    if p.head_chars > 0 and p.head_weight > 0:
        head_min_df = scaled_min_df(p.head_min_df_rate, n_texts)
        parts.append(
            ("head", NgramTfidf(CharGrams(*p.head_ngrams, limit=p.head_chars), head_min_df))
        )
        weights["head"] = p.head_weight
    if p.words:
        lexicon = learn_lexicon(texts)
        words_min_df = scaled_min_df(p.words_min_df_rate, len(texts))
        parts.append(("word", NgramTfidf(LexiconWords(lexicon), words_min_df)))
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

    def _svm(self) -> NBSVM:
        # With ensemble=False the calibrator wraps one NB-SVM fitted on all the training data.
        estimator: NBSVM = self.classifier.calibrated_classifiers_[0].estimator
        return estimator

    def explain(self, text: str, label: str, n: int = 5) -> list[str]:
        """The n-grams of `text` that pushed it most towards `label` (tf-idf × weight)."""
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
        # The opening carries the subject; explaining only it keeps a call within a few ms.
        grams = sorted(set(CharGrams(*self.params.char_ngrams)(norm[:EXPLAIN_CHARS])))
        if not grams:
            return []
        contrib = np.zeros(len(grams))
        offset = 0
        # The union lays the blocks side by side: a gram's column in a char block is its
        # column in that block plus the widths of the blocks before it (x is weighted already).
        for name, block in self.features.transformer_list:
            if name in ("char", "head"):
                cols = block.columns_of(grams)
                known = cols >= 0
                at = offset + cols[known]
                contrib[known] += x[at] * weights[at]
            offset += block.n_features
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
    normalised = [normalise(t) for t in texts]
    features = _features(p, normalised)
    x = features.fit_transform(normalised)
    nbsvm = NBSVM(
        c=p.c,
        alpha=p.nb_alpha,
        class_weight=p.class_weight,
        nb_scaling=p.nb_scaling,
        random_state=seed,
    )
    classifier = CalibratedClassifierCV(nbsvm, method="sigmoid", cv=folds, ensemble=False)
    classifier.fit(x, list(labels))
    settings = asdict(p)
    settings["calibration_folds"] = folds
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
