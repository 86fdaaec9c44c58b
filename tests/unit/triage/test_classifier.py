from __future__ import annotations

import json
import pickle
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import sklearn

from jiesu.triage.classifier import (
    EXPLAIN_CHARS,
    CharGrams,
    Params,
    TextModel,
    _head_grams,
    evaluate,
    normalise,
    train,
)
from jiesu.triage.model_store import ModelLoadError, load_model, save_model
from jiesu.triage.ngrams import Batch, keys_of

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
    save_model(model, tmp_path, metrics={"macro_f1": 1.0, "accuracy": 1.0, "n": 1, "per_class": {}})
    for name in ("model.joblib", "manifest.json", "metrics.json", "MODEL_CARD.md"):
        assert (tmp_path / name).is_file()
    loaded = load_model(tmp_path)
    assert loaded.version == model.version
    assert loaded.predict_top(["公交线路太少"]) == model.predict_top(["公交线路太少"])


def test_other_sklearn_version_is_refused(model: TextModel, tmp_path: Path) -> None:
    save_model(model, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    manifest["scikit_learn"] = "0.24.2"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelLoadError, match=f"0.24.2 but {sklearn.__version__}"):
        load_model(tmp_path)


def test_model_of_an_older_format_is_refused(model: TextModel, tmp_path: Path) -> None:
    save_model(model, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    manifest["format"] = 2
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelLoadError, match="format 2 is not 3; retrain"):
        load_model(tmp_path)


def test_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_model(tmp_path)


@pytest.fixture(scope="module")
def real() -> tuple[TextModel, list[str], list[str]]:
    """A model of 1,200 real messages, with the messages it was not trained on and their labels."""
    rows = teddy_rows("fujian2_raw_split_dev_1842_labelled.csv")
    texts = [r["text_title_plus_detail"] for r in rows]
    labels = [r["一级分类"] for r in rows]
    return train(texts[:1200], labels[:1200]), texts[1200:], labels[1200:]


def test_learns_real_messages(real: tuple[TextModel, list[str], list[str]]) -> None:
    m, texts, labels = real
    assert evaluate(m, texts, labels)["macro_f1"] > 0.75


def _grams_of(head: str, low: int, high: int) -> list[str]:
    starts, sizes, _ = _head_grams(Batch([head]), EXPLAIN_CHARS, low, high)
    return [head[i : i + n] for i, n in zip(starts.tolist(), sizes.tolist(), strict=True)]


def test_explain_grams_and_keys_are_the_plain_ones() -> None:
    head = normalise("朝阳区幸福里小区楼下饭店油烟污染严重，油烟机噪音扰民")
    starts, sizes, keys = _head_grams(Batch([head]), EXPLAIN_CHARS, 1, 4)
    grams = [head[i : i + n] for i, n in zip(starts.tolist(), sizes.tolist(), strict=True)]
    assert grams == sorted(set(CharGrams(1, 4)(head)))
    assert keys.tolist() == keys_of(grams).tolist()
    assert _grams_of("", 1, 4) == []
    assert _grams_of("噪音", 3, 4) == []
    # Only the first `limit` characters; outside the BMP, digits, latin and punctuation alike.
    text = "𠀀噪𝄞a音Z0，噪𝄞a" * 50
    for low, high in ((1, 4), (2, 3), (1, 1), (3, 6)):
        assert _grams_of(text, low, high) == sorted(set(CharGrams(low, high)(text[:EXPLAIN_CHARS])))
    # Many distinct characters: the ranks no longer pack into one integer (9 bits × 8 > 63).
    wide = "".join(chr(0x4E00 + (i * 7919) % 300) for i in range(EXPLAIN_CHARS + 100))
    assert _grams_of(wide, 1, 8) == sorted(set(CharGrams(1, 8)(wide[:EXPLAIN_CHARS])))
    assert _grams_of(wide, 1, 4) == sorted(set(CharGrams(1, 4)(wide[:EXPLAIN_CHARS])))


def reference_explain(model: TextModel, text: str, label: str, n: int = 5) -> list[str]:
    """explain() as it was before the one-text path: the row from the batch transform, the
    values read by sparse column selection, the gram strings themselves sorted."""
    norm = normalise(text)
    x = model.features.transform([norm]).tocsr()
    coef = model.classifier.coef_
    index = model.labels.index(label)
    if coef.shape[0] == 1:
        weights = np.asarray(coef[0]).ravel() * (1.0 if index == 1 else -1.0)
    else:
        weights = np.asarray(coef[index]).ravel()
    grams = sorted(set(CharGrams(*model.params.char_ngrams)(norm[:EXPLAIN_CHARS])))
    if not grams:
        return []
    keys = keys_of(grams)
    contrib = np.zeros(len(grams))
    offset = 0
    for name, block in model.features.transformer_list:
        if name in ("char", "head"):
            cols = block.columns_of_keys(keys)
            known = cols >= 0
            at = offset + cols[known]
            contrib[known] += np.asarray(x[:, at].todense()).ravel() * weights[at]
        offset += block.n_features
    picked: list[str] = []
    for j in np.argsort(-contrib):
        if contrib[j] <= 0 or len(picked) == n:
            break
        gram = grams[j]
        if len(gram) < 2 or not gram.isalnum() or any(gram in q or q in gram for q in picked):
            continue
        picked.append(gram)
    return picked


# Texts at the edges: nothing, nothing known, other scripts, outside the BMP, very long.
EDGE_TEXTS = [
    "",
    " \n\t ",
    "，。！？……",
    "!!!???",
    "abc DEF xyz",
    "WiFi信号差，4G也不行",
    "0123456789",
    "２０１９年１２月",
    "𠀀𠀁𠀂噪音😀扰民𝄞𝄞",
    "😀",
    "噪",
    "噪音",
    "楼下饭店油烟污染严重，" * 600,
    "公交线路太少" + "𝄞" * 6000 + "噪音扰民",
]


def _mixed_texts(seed_texts: Sequence[str], k: int, seed: int = 0) -> list[str]:
    """Texts cut and pasted from others, with digits, latin and punctuation thrown in."""
    rng = random.Random(seed)
    extra = [*"0123456789abcXYZ，。！？ ", "𠀀", "😀"]
    out = []
    for _ in range(k):
        parts = [rng.choice(seed_texts) for _ in range(rng.randint(1, 3))]
        text = "".join(p[rng.randint(0, max(0, len(p) - 1)) :] for p in parts)
        chars = list(text)
        for _ in range(rng.randint(0, 5)):
            chars.insert(rng.randint(0, len(chars)), rng.choice(extra))
        out.append("".join(chars))
    return out


def assert_one_text_path_is_the_batch_path(
    model: TextModel, texts: Sequence[str], top: int | None = None
) -> None:
    """One text at a time gives the batch path's probabilities (within 1e-9: float32 sums in
    the same order, so in fact the same bits), its feature row, and the old explain's words
    (for every label, or for the text's `top` labels as a proposal asks)."""
    together = model.predict_proba(texts)  # several texts: the batch path
    x = model.features.transform([normalise(t) for t in texts]).tocsr()
    for i, text in enumerate(texts):
        if i % 2:  # explained before it is classified: the row is made by explain
            model._recent.clear()
        columns, values = model.features.row(normalise(text))
        assert np.array_equal(columns, x[i].indices)
        assert np.abs(values - x[i].data).max(initial=0.0) <= 1e-9
        order = np.argsort(-together[i])
        for j in order if top is None else order[:top]:
            label = model.labels[j]
            assert model.explain(text, label) == reference_explain(model, text, label), (i, label)
        alone = model.predict_proba([text])
        assert alone.shape == (1, len(model.labels))
        assert np.abs(alone[0] - together[i]).max() <= 1e-9, i
        assert model.predict_top([text], k=3)[0] == [
            (model.labels[j], float(together[i][j])) for j in order[:3]
        ]


def test_one_text_path_gives_the_batch_paths_results(model: TextModel) -> None:
    texts, _ = corpus()
    pool = [*texts, *EDGE_TEXTS, *_mixed_texts(texts, 300)]
    assert_one_text_path_is_the_batch_path(model, pool)


def test_one_text_path_of_a_binary_model_and_of_one_block() -> None:
    texts, labels = corpus()
    two = [(t, y) for t, y in zip(texts, labels, strict=True) if y != "教育文体"]
    binary = train([t for t, _ in two], [y for _, y in two])
    assert binary.classifier.coef_.shape[0] == 1  # one logit, towards classes_[1]
    pool = [*texts, *EDGE_TEXTS, *_mixed_texts(texts, 100, seed=1)]
    assert_one_text_path_is_the_batch_path(binary, pool)
    plain = train(texts, labels, params=Params(head_chars=0, words=False))
    assert [name for name, _ in plain.features.transformer_list] == ["char"]
    assert_one_text_path_is_the_batch_path(plain, pool)


def test_one_text_path_on_real_messages(real: tuple[TextModel, list[str], list[str]]) -> None:
    m, texts, _ = real
    pool = [*texts[:400], *EDGE_TEXTS, *_mixed_texts(texts, 100, seed=2)]
    assert_one_text_path_is_the_batch_path(m, pool, top=3)
    assert_one_text_path_is_the_batch_path(m, texts[400:440])  # every label


def test_one_text_is_classified_alike_and_the_cached_transpose_is_not_saved(
    model: TextModel, tmp_path: Path
) -> None:
    texts = ["楼下饭店油烟污染严重", "小区路灯坏了晚上看不见"]
    together = model.predict_proba(texts)
    alone = [model.predict_proba([t])[0] for t in texts]  # the one-text path and its memo
    assert abs(together - alone).max() < 1e-6
    assert "_coef_t" in model.classifier.__dict__  # made by the predictions above
    loaded = load_model(save_model(model, tmp_path / "m"))
    assert "_coef_t" not in loaded.classifier.__dict__
    assert abs(loaded.predict_proba(texts) - together).max() < 1e-6


def test_the_one_text_path_pickles_nothing(tmp_path: Path) -> None:
    fresh = small_model()
    pickled = pickle.dumps((fresh.features, fresh.classifier))
    fresh.predict_top(["楼下饭店油烟污染严重"])
    fresh.explain("楼下饭店油烟污染严重", "环境保护")
    assert pickle.dumps((fresh.features, fresh.classifier)) == pickled
    loaded = load_model(save_model(fresh, tmp_path / "m"))
    for text in ["楼下饭店油烟污染严重", "小区路灯坏了晚上看不见", ""]:
        assert loaded.predict_top([text]) == fresh.predict_top([text])
        assert loaded.explain(text, "环境保护") == fresh.explain(text, "环境保护")


def test_a_primed_group_gives_each_texts_own_row(model: TextModel) -> None:
    # The registrar primes its group's texts together; each proposal then reads the row it
    # would have made alone: the same columns, terms, probabilities and explanation.
    texts, _ = corpus()
    pool = [*texts[:150], *EDGE_TEXTS, *_mixed_texts(texts, 60, seed=2)]
    for start in range(0, len(pool), 7):
        group = pool[start : start + 7]
        group.append(group[0])  # the same text twice in a group
        model._recent.clear()
        model.prime(group)
        primed = {t: model._recent[t] for t in group}
        for text in group:
            model._recent.clear()
            alone = model._row(text)
            row = primed[text]
            assert row.norm == alone.norm
            assert np.array_equal(row.columns, alone.columns)
            assert np.array_equal(row.terms, alone.terms)
            label = model.predict_top([text], k=1)[0][0][0]
            model._recent.clear()
            model._recent[text] = row
            assert model.predict_top([text], k=1)[0][0][0] == label
            assert model.explain(text, label) == reference_explain(model, text, label)
    model._recent.clear()
    model.prime([])
    assert model._recent == {}
