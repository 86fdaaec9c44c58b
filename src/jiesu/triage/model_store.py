"""A model directory: model.joblib, manifest.json, metrics.json and MODEL_CARD.md.

A joblib pickle is only safe to load with the scikit-learn that wrote it (estimator internals
change between minor versions), so the manifest records the versions and loading refuses a
different major.minor with a message saying what to do, instead of failing later or, worse,
predicting nonsense. Only load model directories you trust: unpickling runs code.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib
import sklearn

from jiesu.triage.classifier import TextModel

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
# 3: n-grams keyed by a rolling 64-bit hash over code points (format 2 hashed n-gram strings
# with murmurhash: its columns mean nothing to format 3's features); 2: NB-SVM over pruned
# hashed n-gram blocks; 1: hashed blocks and a LinearSVC.
FORMAT = 3


class ModelLoadError(RuntimeError):
    pass


def _jiesu_version() -> str:
    try:
        return version("jiesu")
    except PackageNotFoundError:
        return "0+unknown"


def _major_minor(v: str) -> tuple[str, ...]:
    return tuple(v.split(".")[:2])


def save_model(
    model: TextModel, directory: str | Path, *, metrics: dict[str, Any] | None = None
) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    joblib.dump(
        {"features": model.features, "classifier": model.classifier, "params": model.params},
        path,
        compress=3,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    model_version = f"{created[:10]}-{digest[:8]}"
    model.info["model_version"] = model_version
    manifest = {
        "format": FORMAT,
        "model_version": model_version,
        "created_at": created,
        "jiesu": _jiesu_version(),
        "scikit_learn": sklearn.__version__,
        "python": platform.python_version(),
        "labels": model.labels,
        "sha256": digest,
        "info": model.info,
    }
    (directory / MANIFEST_FILE).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    if metrics is not None:
        (directory / METRICS_FILE).write_text(
            json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", "utf-8"
        )
    (directory / CARD_FILE).write_text(_card(manifest, metrics), "utf-8")
    return directory


def _card(manifest: dict[str, Any], metrics: dict[str, Any] | None) -> str:
    info = manifest["info"]
    lines = [
        f"# Triage category model {manifest['model_version']}",
        "",
        "Proposes the level-1 category of a citizen's request from its text. It is a proposal",
        "for the agent to confirm, never a decision: check the per-class figures before letting",
        "it auto-dispatch anything.",
        "",
        "- Model: TF-IDF character n-grams"
        + (" + word n-grams" if info.get("params", {}).get("words") else "")
        + ", NB-SVMs and a linear SVM combined by a logistic regression (one linear model)",
        f"- Trained on {info.get('n_train')} texts in {info.get('train_seconds')} s"
        f" (seed {info.get('seed')})",
        f"- Software: jiesu {manifest['jiesu']}, scikit-learn {manifest['scikit_learn']},"
        f" Python {manifest['python']}",
        f"- Labels: {', '.join(manifest['labels'])}",
        "",
        "## Training labels",
        "",
        "| label | texts |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in sorted(info.get("label_counts", {}).items())]
    lines += ["", "## Evaluation", ""]
    if metrics:
        lines += [
            f"{metrics.get('how', 'held-out data')}: macro-F1 {metrics.get('macro_f1')},"
            f" accuracy {metrics.get('accuracy')}, n = {metrics.get('n')}.",
            "",
            "| label | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for name, m in sorted(metrics.get("per_class", {}).items()):
            lines.append(
                f"| {name} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |"
            )
    else:
        lines.append("No evaluation was recorded with this model.")
    lines += [
        "",
        "## Limits",
        "",
        "Trained on one centre's history, it knows only the categories and the wording of that",
        "history; a new category or a new kind of problem is proposed as the nearest old one.",
        "Low probabilities mean the agent should choose.",
        "",
    ]
    return "\n".join(lines)


def load_model(directory: str | Path) -> TextModel:
    d = Path(directory)
    manifest_path = d / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ModelLoadError(f"{d} is not a model directory: {MANIFEST_FILE} is missing")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest.get("format") != FORMAT:
        raise ModelLoadError(
            f"{d}: model format {manifest.get('format')} is not {FORMAT};"
            " retrain it with `jiesu model train`"
        )
    saved = str(manifest.get("scikit_learn", "?"))
    if _major_minor(saved) != _major_minor(sklearn.__version__):
        raise ModelLoadError(
            f"{d} was trained with scikit-learn {saved} but {sklearn.__version__} is installed;"
            " retrain it with `jiesu model train` (pickled estimators do not carry across"
            " scikit-learn minor versions)"
        )
    path = d / MODEL_FILE
    if hashlib.sha256(path.read_bytes()).hexdigest() != manifest.get("sha256"):
        raise ModelLoadError(f"{path} does not match the checksum in its manifest")
    parts = joblib.load(path)
    info = dict(manifest.get("info", {}))
    info["model_version"] = manifest.get("model_version")
    return TextModel(parts["features"], parts["classifier"], parts["params"], info)
