from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from jiesu.triage.classifier import Stacked
from jiesu.triage.ngrams import (
    NBSVM,
    Batch,
    Blocks,
    CharGrams,
    LexiconWords,
    NgramTfidf,
    key_of,
    l2_normalised,
    learn_lexicon,
    pair_key,
    scaled_min_df,
)

DOCS = ["噪音扰民", "噪音很大", "油烟扰民", "公交太少"]


def test_char_grams_are_all_substrings_of_each_length() -> None:
    text = "小区噪音扰民"
    expected = [text[i : i + n] for n in range(2, 5) for i in range(len(text) - n + 1)]
    assert CharGrams(2, 4)(text) == expected
    assert CharGrams(1, 3)("") == []
    assert CharGrams(3, 3)("噪音") == []


def test_tfidf_drops_rare_ngrams_and_normalises_rows() -> None:
    block = NgramTfidf(CharGrams(1, 2), min_df=2).fit(DOCS)
    # 噪, 音, 扰, 民, 噪音, 扰民 occur in two texts; everything else in one.
    assert block.n_features == 6
    kept = block.columns_of(["噪音", "扰民", "公交", "油烟"])
    assert kept[0] >= 0 and kept[1] >= 0 and kept[0] != kept[1]
    assert list(kept[2:]) == [-1, -1]
    x = block.transform(["噪音扰民噪音", "公交"])
    assert np.isclose(sp.linalg.norm(x[0]), 1.0)
    assert x[1].nnz == 0  # nothing known: an empty row, not an error
    # Sublinear tf: 噪音 twice weighs 1 + ln 2 times its idf, before normalising.
    counts = block.counts(["噪音扰民噪音"]).toarray()[0]
    assert counts[kept[0]] == 2 and counts[kept[1]] == 1


def test_nbsvm_is_a_linear_model_of_scaled_svms() -> None:
    rng = np.random.default_rng(0)
    x = sp.random(60, 30, density=0.3, random_state=1, format="csr", dtype=np.float32)
    y = np.array(["a", "b", "c"] * 20)
    x = sp.csr_matrix(x + sp.csr_matrix((y == "a")[:, None] * (rng.random((60, 30)) < 0.1)))
    model = NBSVM(c=0.5).fit(x, y)
    present = (x > 0).astype(np.float64)
    for k, label in enumerate(model.classes_):
        positive = y == label
        p = 1 + np.asarray(present[positive].sum(axis=0)).ravel()
        q = 1 + np.asarray(present[~positive].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        svm = LinearSVC(C=0.5, class_weight="balanced", random_state=0)
        svm.fit(x.multiply(r).tocsr(), positive)
        expected = svm.decision_function(x.multiply(r).tocsr())
        assert np.allclose(model.decision_function(x)[:, k], expected, atol=1e-4)
    assert set(model.predict(x)) <= {"a", "b", "c"}


def test_nbsvm_binary_gives_one_score_towards_the_second_class() -> None:
    x = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32))
    model = NBSVM().fit(x, ["x", "x", "y", "y"])
    scores = model.decision_function(x)
    assert scores.shape == (4,) and scores[0] < 0 < scores[2]
    assert list(model.predict(x)) == ["x", "x", "y", "y"]
    with pytest.raises(ValueError, match="two classes"):
        NBSVM().fit(x, ["x"] * 4)


def test_lexicon_words_take_the_longest_match() -> None:
    words = LexiconWords({"噪音", "噪音扰民", "扰民", "民工"})
    assert words.words("噪音扰民工作") == ["噪音扰民", "工", "作"]
    assert words("噪音扰民工作") == ["噪音扰民", "工", "作", "噪音扰民 工", "工 作"]
    assert words("") == []


def test_lexicon_keeps_words_seen_in_two_texts() -> None:
    lexicon = learn_lexicon(["小区噪音扰民", "夜间噪音扰民", "公交线路太少"])
    assert "噪音" in lexicon and "扰民" in lexicon
    assert "公交" not in lexicon and "线路" not in lexicon


def test_min_df_grows_with_the_corpus() -> None:
    assert [scaled_min_df(6e-4, n) for n in (45, 1_000, 8_109, 10_137)] == [1, 1, 5, 6]


def test_batch_keys_are_the_keys_of_the_strings() -> None:
    # The array path and the string path must agree, text by text, or explain() and the
    # lexicon would look up other columns than the ones the model was fitted on.
    texts = ["小区噪音扰民", "", "噪", "公交线路太少噪音扰民工作"]
    batch = Batch(texts)
    grams = CharGrams(1, 4, limit=5)
    doc, keys = grams.batch_keys(batch)
    got = sorted(zip(doc.tolist(), keys.tolist(), strict=True))
    expected = sorted((i, key_of(g)) for i, t in enumerate(texts) for g in grams(t))
    assert got == expected
    words = LexiconWords({"噪音", "噪音扰民", "扰民", "民工", "公交线路"})
    doc, keys = words.batch_keys(batch)
    got = sorted(zip(doc.tolist(), keys.tolist(), strict=True))
    expected = []
    for i, t in enumerate(texts):
        cut = words.words(t)
        expected += [(i, key_of(w)) for w in cut]
        expected += [(i, pair_key(a, b)) for a, b in pairwise(cut)]
    assert got == sorted(expected)


def test_stacked_models_fold_into_one_linear_model() -> None:
    rng = np.random.default_rng(0)
    y = np.array(["a", "b", "c"] * 40)
    x = sp.random(120, 40, density=0.2, random_state=2, format="csr", dtype=np.float32)
    signal = np.zeros((120, 40), dtype=np.float32)
    for k, label in enumerate("abc"):
        signal[y == label, k * 10 : k * 10 + 10] = rng.random(((y == label).sum(), 10)) < 0.3
    x = sp.csr_matrix(x + sp.csr_matrix(signal))
    bases = [("all", NBSVM(c=0.5), None), ("left", NBSVM(c=0.5), slice(0, 20))]
    model = Stacked(bases, folds=3).fit(x, y)
    proba = model.predict_proba(x)
    assert model.coef_.shape == (3, 40)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(x) == y).mean() > 0.9
    # Two classes: one logit towards classes_[1], as scikit-learn's binary models give.
    two = y != "c"
    binary = Stacked(bases, folds=3).fit(x[two], y[two])
    assert binary.coef_.shape == (1, 40)
    assert binary.predict_proba(x[two]).shape == (int(two.sum()), 2)


def _three_blocks(*extra: str) -> Blocks:
    """Char, head and word blocks side by side with their weights (0.3 rounds in float32),
    fitted on DOCS and `extra`."""
    words = LexiconWords({"噪音", "扰民", "油烟", "公交", "太少"})
    blocks = Blocks(
        [
            ("char", NgramTfidf(CharGrams(1, 4), min_df=1, bits=12), 1.0),
            ("head", NgramTfidf(CharGrams(1, 3, limit=3), min_df=1, bits=10), 0.5),
            ("word", NgramTfidf(words, min_df=1, bits=10), 0.3),
        ]
    )
    blocks.fit_transform([*DOCS, *extra])
    return blocks


def test_row_is_the_transformed_row_bit_for_bit() -> None:
    # Blocks side by side with their weights (0.3 rounds in float32): one text's (columns,
    # values) is its row of the batch transform, exactly.
    blocks = _three_blocks("噪音扰民噪音扰民", "𠀀噪音😀")
    texts = ["噪音扰民噪音", "", "，。", "abc", "公交太少" * 400, "𠀀𠀀噪音😀扰民", "无关的字"]
    x = blocks.transform(texts)
    widths = sum(block.n_features for _, block, _ in blocks.blocks)
    for i, text in enumerate(texts):
        columns, values = blocks.row(text)
        assert columns.dtype == np.int64 and values.dtype == np.float32
        assert np.array_equal(columns, x[i].indices) and np.array_equal(values, x[i].data)
        assert (columns < widths).all()
    assert blocks.row("")[0].size == 0
    with pytest.raises(ValueError, match="one text"):
        blocks.blocks[0][1].row(Batch(DOCS))


def test_rows_of_a_batch_are_each_texts_row() -> None:
    blocks = _three_blocks("噪音扰民噪音扰民", "𠀀噪音😀扰民")
    texts = ["噪音扰民噪音", "", "，。", "abc", "公交太少" * 400, "𠀀𠀀噪音😀扰民", "", "无关的字"]
    batch = Batch(texts)
    together = blocks.rows(batch)
    assert len(together) == len(texts)
    for i, text in enumerate(texts):
        columns, values = blocks.row(text)
        assert np.array_equal(together[i][0], columns) and together[i][0].dtype == np.int64
        assert np.array_equal(together[i][1], values) and together[i][1].dtype == np.float32
        # A text cut from the batch has its own batch's code points and keys.
        alone, part = Batch([text]), batch.one(i)
        assert np.array_equal(part.codes, alone.codes)
        for n in range(1, 5):
            inside = alone.valid(n)
            assert np.array_equal(part.keys(n)[inside], alone.keys(n)[inside]), (i, n)
    assert blocks.rows(Batch([])) == []


def test_l2_is_scikit_learns_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    for size in (0, 1, 2, 7, 100, 5000):
        values = (rng.random(size) * rng.choice([1e-3, 1.0, 30.0])).astype(np.float32)
        row = sp.csr_matrix(values[None, :]) if size else sp.csr_matrix((1, 1), dtype=np.float32)
        expected = normalize(row, copy=True).data
        assert np.array_equal(l2_normalised(values.copy()), expected)
    zeros = np.zeros(3, dtype=np.float32)
    assert np.array_equal(l2_normalised(zeros), zeros)
