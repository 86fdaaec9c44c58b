from __future__ import annotations

import json
from pathlib import Path

import pytest
import sklearn

from jiesu.triage.classifier import (
    CharGrams,
    Params,
    TextModel,
    _head_grams,
    evaluate,
    normalise,
    train,
)
from jiesu.triage.model_store import ModelLoadError, load_model
from jiesu.triage.ngrams import keys_of

from .conftest import teddy_rows
from .helpers import corpus, small_model


@pytest.fixture(scope="module")
def model() -> TextModel:
    return small_model()


def test_normalise_makes_tokenised_and_raw_text_alike() -> None:
    assert normalise("噪音 扰民 ２０１９年") == normalise("噪音扰民2019年") == "噪音扰民0年"


def test_predict_top_is_sorted_probabilities(model: TextModel) -> None:
    top = model.predict_top(["楼下饭店油烟污染严重"], k=3)[0]
    assert top[0][0] == "环境保护"
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True)
    assert abs(sum(model.predict_proba(["x"])[0]) - 1.0) < 1e-6


def test_explain_names_the_deciding_words(model: TextModel) -> None:
    words = model.explain("楼下饭店油烟污染严重", "环境保护", n=3)
    assert words and any("油烟" in w or "污染" in w for w in words)
    with pytest.raises(ValueError, match="unknown label"):
        model.explain("x", "不存在")


def test_evaluate_reports_the_agreed_fields(model: TextModel) -> None:
    texts, labels = corpus()
    r = evaluate(model, texts, labels)
    assert set(r) == {"macro_f1", "accuracy", "n", "texts_per_second", "per_class"}
    assert r["n"] == len(texts) and r["macro_f1"] > 0.9
    assert set(r["per_class"]["环境保护"]) == {"precision", "recall", "f1", "support"}


def test_head_block_sees_only_the_opening() -> None:
    assert CharGrams(1, 2, limit=3)("噪音扰民") == ["噪", "音", "扰", "噪音", "音扰"]


def test_model_without_head_and_word_blocks_still_explains(model: TextModel) -> None:
    assert [name for name, _ in model.features.transformer_list] == ["char", "head", "word"]
    texts, labels = corpus()
    plain = train(
        texts, labels, params=Params(head_chars=0, words=False, nb_scaling=False, class_weight=None)
    )
    assert [name for name, _ in plain.features.transformer_list] == ["char"]
    assert plain.predict(["楼下饭店油烟污染严重"]) == ["环境保护"]
    assert plain.explain("楼下饭店油烟污染严重", "环境保护", n=2)


def test_train_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        train(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="texts but"):
        train(["a"], ["x", "y"])


def test_save_and_load_round_trip(model: TextModel, tmp_path: Path) -> None:
    model.save(tmp_path, metrics={"macro_f1": 1.0, "accuracy": 1.0, "n": 1, "per_class": {}})
    for name in ("model.joblib", "manifest.json", "metrics.json", "MODEL_CARD.md"):
        assert (tmp_path / name).is_file()
    loaded = load_model(tmp_path)
    assert loaded.version == model.version
    assert loaded.predict_top(["公交线路太少"]) == model.predict_top(["公交线路太少"])


def test_other_sklearn_version_is_refused(model: TextModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    manifest["scikit_learn"] = "0.24.2"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelLoadError, match=f"0.24.2 but {sklearn.__version__}"):
        load_model(tmp_path)


def test_model_of_an_older_format_is_refused(model: TextModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    manifest["format"] = 2
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelLoadError, match="format 2 is not 3; retrain"):
        load_model(tmp_path)


def test_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_model(tmp_path)


def test_learns_real_messages() -> None:
    rows = teddy_rows("fujian2_raw_split_dev_1842_labelled.csv")
    texts = [r["text_title_plus_detail"] for r in rows]
    labels = [r["一级分类"] for r in rows]
    m = train(texts[:1200], labels[:1200])
    assert evaluate(m, texts[1200:], labels[1200:])["macro_f1"] > 0.75


def test_explain_grams_and_keys_are_the_plain_ones() -> None:
    head = normalise("朝阳区幸福里小区楼下饭店油烟污染严重，油烟机噪音扰民")
    grams, keys = _head_grams(head, 1, 4)
    assert grams == sorted(set(CharGrams(1, 4)(head)))
    assert keys.tolist() == keys_of(grams).tolist()
    assert _head_grams("", 1, 4)[0] == []


def test_one_text_is_classified_alike_and_the_cached_transpose_is_not_saved(
    model: TextModel, tmp_path: Path
) -> None:
    texts = ["楼下饭店油烟污染严重", "小区路灯坏了晚上看不见"]
    together = model.predict_proba(texts)
    alone = [model.predict_proba([t])[0] for t in texts]  # the one-text path and its memo
    assert abs(together - alone).max() < 1e-6
    assert "_coef_t" in model.classifier.__dict__  # made by the predictions above
    loaded = load_model(model.save(tmp_path / "m"))
    assert "_coef_t" not in loaded.classifier.__dict__
    assert abs(loaded.predict_proba(texts) - together).max() < 1e-6
