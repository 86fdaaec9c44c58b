"""`jiesu model …`: train, evaluate, predict with and switch the live triage model.

CSV is read with the stdlib (UTF-8, with or without BOM, quoted newlines allowed); bad input
exits with code 2 and a message saying what to fix.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from jiesu.sheets import csv_dict
from jiesu.triage import live_model_dir
from jiesu.triage.classifier import TextModel
from jiesu.triage.classifier import evaluate as evaluate_model
from jiesu.triage.classifier import train as train_model
from jiesu.triage.model_store import ModelLoadError, load_model, save_model

model_app = typer.Typer(help="Train, evaluate and choose the triage category model.")

Inputs = Annotated[list[Path], typer.Option("--input", help="UTF-8 CSV file (repeatable)")]
TextColumns = Annotated[
    list[str], typer.Option("--text-column", help="text column (repeatable; joined with newline)")
]
LabelColumn = Annotated[str, typer.Option("--label-column", help="column with the category")]
ModelDir = Annotated[Path, typer.Option("--model", help="model directory")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    csv.field_size_limit(sys.maxsize)
    if not path.is_file():
        raise _fail(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except UnicodeDecodeError as e:
        raise _fail(f"{path}: not UTF-8 ({e.reason} at byte {e.start}); save it as UTF-8") from e
    except csv.Error as e:
        raise _fail(f"{path}: not a readable CSV: {e}") from e
    if not header:
        raise _fail(f"{path}: the file is empty (no header row)")
    if not rows:
        raise _fail(f"{path}: the file has a header but no rows")
    return header, rows


def _check_columns(path: Path, header: Sequence[str], columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise _fail(f"{path}: no column {', '.join(missing)}; the columns are {', '.join(header)}")


def _text(row: dict[str, str], columns: Sequence[str]) -> str:
    return "\n".join((row.get(c) or "").strip() for c in columns)


def _load_labelled(
    inputs: Sequence[Path], text_columns: Sequence[str], label_column: str
) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for path in inputs:
        header, rows = read_rows(path)
        _check_columns(path, header, [*text_columns, label_column])
        for row in rows:
            label = (row.get(label_column) or "").strip()
            text = _text(row, text_columns)
            if label and text.strip():
                texts.append(text)
                labels.append(label)
    if not texts:
        raise _fail("no row has both a text and a label")
    return texts, labels


def _from_db(label: str) -> tuple[list[str], list[str]]:
    levels = {"category_level1": 1, "category_level2": 2, "category_level3": 3}
    if label not in levels:
        raise _fail(f"--label must be one of {', '.join(levels)}")
    from jiesu.triage.report import training_rows
    from jiesu.uow import configured_uow

    with configured_uow() as uow:
        texts, labels = training_rows(uow.session, levels[label])
    if len(set(labels)) < 2:
        raise _fail(
            f"the database has {len(texts)} settled cases in {len(set(labels))} "
            "categories; at least two categories are needed to train"
        )
    return texts, labels


def _load(model_dir: Path) -> TextModel:
    try:
        return load_model(model_dir)
    except ModelLoadError as e:
        raise _fail(str(e)) from e


@model_app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="model directory to write")],
    inputs: Annotated[
        list[Path] | None, typer.Option("--input", help="UTF-8 CSV file (repeatable)")
    ] = None,
    text_columns: Annotated[
        list[str] | None,
        typer.Option("--text-column", help="text column (repeatable; joined with newline)"),
    ] = None,
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="column with the category")
    ] = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="train on the database's own settled cases")
    ] = False,
    label: Annotated[
        str, typer.Option(help="with --from-db: category_level1|category_level2|category_level3")
    ] = "category_level1",
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    holdout: Annotated[float, typer.Option(help="share of rows kept out to measure")] = 0.1,
) -> None:
    """Train a category model from labelled CSV rows (or the database) and write it with its
    metrics and model card."""
    if from_db:
        texts, labels = _from_db(label)
    else:
        if not inputs or not text_columns or not label_column:
            raise _fail("give --input, --text-column and --label-column, or --from-db")
        texts, labels = _load_labelled(inputs, text_columns, label_column)
    try:
        metrics = None
        if 0 < holdout < 1 and len(texts) >= 50:
            from sklearn.model_selection import train_test_split

            tr_x, te_x, tr_y, te_y = train_test_split(
                texts, labels, test_size=holdout, random_state=seed, stratify=labels
            )
            metrics = evaluate_model(train_model(tr_x, tr_y, seed=seed), te_x, te_y)
            metrics["how"] = f"stratified {holdout:.0%} hold-out of the training rows"
        model = train_model(texts, labels, seed=seed)
    except ValueError as e:
        raise _fail(str(e)) from e
    save_model(model, out, metrics=metrics)
    summary = {"out": str(out), "n": len(texts), "model_version": model.version}
    if metrics:
        summary |= {"holdout_macro_f1": metrics["macro_f1"]}
    typer.echo(json.dumps(summary, ensure_ascii=False))


@model_app.command()
def evaluate(
    model: ModelDir,
    inputs: Inputs,
    text_columns: TextColumns,
    label_column: LabelColumn,
) -> None:
    """Print one JSON object: macro_f1, accuracy, n, texts_per_second, per_class."""
    m = _load(model)
    texts, labels = _load_labelled(inputs, text_columns, label_column)
    typer.echo(json.dumps(evaluate_model(m, texts, labels), ensure_ascii=False))


@model_app.command()
def predict(
    model: ModelDir,
    inputs: Inputs,
    text_columns: TextColumns,
    out: Annotated[Path, typer.Option("--out", help="CSV to write")],
) -> None:
    """Write the input rows with predicted_label and confidence columns."""
    m = _load(model)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer: csv.DictWriter[str] | None = None
        for path in inputs:
            header, rows = read_rows(path)
            _check_columns(path, header, text_columns)
            top = m.predict_top([_text(r, text_columns) for r in rows], k=1)
            if writer is None:
                writer = csv.DictWriter(
                    f, fieldnames=[*header, "predicted_label", "confidence"], extrasaction="ignore"
                )
                writer.writeheader()
            for row, best in zip(rows, top, strict=True):
                label, confidence = best[0]
                score = f"{confidence:.4f}"
                writer.writerow(csv_dict(row) | {"predicted_label": label, "confidence": score})


@model_app.command()
def use(directory: Annotated[Path, typer.Argument(help="model directory to make live")]) -> None:
    """Copy a model directory to the live-model location ($JIESU_MODEL_DIR or ./var/model)."""
    _load(directory)  # refuse to make a broken or incompatible model live
    target = live_model_dir()
    staging = target.with_name(target.name + ".new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(directory, staging)
    # Swap in two renames so a reader never sees a half-copied directory.
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old.exists():
        shutil.rmtree(old)
    typer.echo(f"live model: {target} ({load_model(target).version})")


@model_app.command()
def report(
    since: Annotated[
        str | None, typer.Option(help="only cases registered on or after YYYY-MM-DD")
    ] = None,
) -> None:
    """Agreement of stored triage proposals with the final decisions, by month and category,
    as one JSON object."""
    from datetime import date, datetime, time

    from jiesu.settings import get_settings
    from jiesu.triage.report import agreement_report
    from jiesu.uow import configured_uow

    settings = get_settings()
    start = None
    if since:
        try:
            start = datetime.combine(date.fromisoformat(since), time(), tzinfo=settings.tz)
        except ValueError as e:
            raise _fail(f"--since: {e}; write it as YYYY-MM-DD") from e
    with configured_uow() as uow:
        result = agreement_report(uow.session, settings.tz, start)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
