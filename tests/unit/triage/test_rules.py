from __future__ import annotations

import pytest

from jiesu.triage.rules import emergency, guess_category, request_type, urgency


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要投诉楼下饭店油烟扰民", "complaint"),
        ("举报有人偷排污水", "report"),
        ("请问居住证怎么办理？", "inquiry"),
        ("建议在路口增设红绿灯", "suggestion"),
        ("老人行动不便，求助社区帮忙", "help"),
    ],
)
def test_request_type(text: str, expected: str) -> None:
    d = request_type(text)
    assert d.value == expected
    assert d.reasons


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("楼道里有很重的煤气味，怀疑燃气泄漏", "urgent"),
        ("电梯困人了，有人被困二十分钟", "urgent"),
        ("小区从早上开始停水", "prompt"),
        ("家里暖气不热，室温只有十五度", "prompt"),
        ("路边共享单车乱停", "normal"),
    ],
)
def test_urgency(text: str, expected: str) -> None:
    assert urgency(text).value == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("楼下着火了，浓烟很大", "119"),
        ("路口发生车祸，有人受伤", "122"),
        ("有老人在地铁站晕倒了", "120"),
        ("有人在小区门口打架", "110"),
        ("消防通道被占，存在火灾隐患", None),
        ("楼下餐馆噪音扰民", None),
    ],
)
def test_emergency(text: str, number: str | None) -> None:
    e = emergency(text)
    assert e.number == number
    assert bool(e.reasons) == (number is not None)


TAXONOMY = [
    ("01", "城乡建设", None),
    ("0101", "物业管理", "01"),
    ("02", "环境保护", None),
    ("0201", "噪音污染", "02"),
    ("03", "教育文体", None),
    ("0301", "学前教育", "03"),
]


def test_guess_category_uses_child_names() -> None:
    ranked = guess_category("晚上施工噪音太大", TAXONOMY)
    assert ranked[0][0] == "02"
    assert "噪音" in ranked[0][2]
    assert abs(sum(s for _, s, _ in ranked) - 1.0) < 1e-9


def test_guess_category_nothing_found() -> None:
    assert guess_category("你好", TAXONOMY) == []


def test_cues_found_in_one_pass_are_the_substring_matches() -> None:
    # The cue words are found by one automaton pass; each list's hits must be exactly, and in
    # the same order as, the substring tests they replace, overlaps included (着火了 / 着火).
    import random

    from jiesu.triage import rules
    from tests.unit.triage.helpers import corpus

    lists = [*rules._REQUEST_CUES.values(), rules._URGENT_CUES, rules._PROMPT_CUES]
    lists += [cues for _, cues in rules._EMERGENCY_CUES] + [rules._NOT_EMERGENCY]
    every = sorted({c for cues in lists for c in cues})
    rng = random.Random(0)
    texts = corpus()[0][:200]
    texts += ["".join(rng.sample(every, rng.randint(1, 6))) for _ in range(300)]
    texts += [t[: rng.randint(0, len(t))] + "的" for t in texts[-50:]] + ["", "着火了着火"]
    for text in texts:
        for cues in lists:
            assert rules._found(text, cues) == [c for c in cues if c in text], (text, cues)


def test_shared_nfkc_is_unicodedatas() -> None:
    import unicodedata

    from jiesu.triage.text import nfkc

    for text in ["ＡＢＣ１２３，。！", "ﾊﾝｶｸ", "e\u0301", "①②", "", "路灯坏了" * 50]:
        assert nfkc(text) == unicodedata.normalize("NFKC", text)
        assert nfkc(text) is nfkc(text)  # asked again, the same string: not folded twice
