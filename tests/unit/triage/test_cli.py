from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jiesu.settings import get_settings
from jiesu.triage.cli import model_app

from .helpers import corpus

runner = CliRunner()


def write_csv(path: Path, rows: list[dict[str, str]], *, bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    texts, labels = corpus()
    # Title and detail in two columns, the detail with a quoted newline; BOM like Excel writes.
    rows = [
        {"主题": t[:6], "详情": t[6:] + "\n第二行", "分类": lab}
        for t, lab in zip(texts, labels, strict=True)
    ]
    data = write_csv(d / "train.csv", rows, bom=True)
    out = d / "model"
    args = ["train", "--input", str(data), "--text-column", "主题", "--text-column", "详情"]
    r = runner.invoke(model_app, [*args, "--label-column", "分类", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return data, out


def test_train_writes_a_model_directory(trained: tuple[Path, Path]) -> None:
    _, out = trained
    assert (out / "MODEL_CARD.md").is_file() and (out / "manifest.json").is_file()


def test_evaluate_prints_one_json_object(trained: tuple[Path, Path]) -> None:
    data, out = trained
    r = runner.invoke(
        model_app,
        ["evaluate", "--model", str(out), "--input", str(data), "--text-column", "主题",
         "--text-column", "详情", "--label-column", "分类"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert {"macro_f1", "accuracy", "n", "texts_per_second", "per_class"} <= set(result)


def test_predict_adds_two_columns(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, out = trained
    dest = tmp_path / "out.csv"
    r = runner.invoke(
        model_app,
        ["predict", "--model", str(out), "--input", str(data), "--text-column", "详情",
         "--out", str(dest)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    with dest.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["predicted_label"] and float(rows[0]["confidence"]) > 0
    assert rows[0]["详情"].endswith("\n第二行")


def test_missing_column_and_empty_file_exit_2(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, _ = trained
    base = ["train", "--label-column", "分类", "--out", str(tmp_path / "m")]
    r = runner.invoke(model_app, [*base, "--input", str(data), "--text-column", "标题"])
    assert r.exit_code == 2 and "no column 标题" in r.output
    empty = tmp_path / "empty.csv"
    empty.write_text("", "utf-8")
    r = runner.invoke(model_app, [*base, "--input", str(empty), "--text-column", "主题"])
    assert r.exit_code == 2 and "empty" in r.output


def test_use_makes_the_model_live(
    trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out = trained
    live = tmp_path / "var" / "model"
    live.parent.mkdir()
    monkeypatch.setenv("JIESU_MODEL_DIR", str(live))
    get_settings.cache_clear()  # settings are read once per process
    try:
        r = runner.invoke(model_app, ["use", str(out)])
        assert r.exit_code == 0, r.output
        assert (live / "manifest.json").is_file()
        r = runner.invoke(model_app, ["use", str(tmp_path)])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2
