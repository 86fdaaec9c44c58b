from __future__ import annotations

import csv
import re
import unicodedata

from jiesu.triage.places import _SPACE, find_place, gazetteer, streets

from .conftest import DATA, teddy_rows


def test_gazetteer_has_the_343_streets() -> None:
    assert len(streets()) == 343
    assert all(int(s.code[-3:]) < 400 for s in streets())


def test_baliz_huang_without_district_is_ambiguous() -> None:
    m = find_place("八里庄这边菜市场关了")
    assert m.ambiguous and m.street_code is None
    assert sorted(m.candidates) == ["110105015", "110108005"]


def test_baliz_huang_with_district_resolves() -> None:
    assert find_place("海淀区八里庄北洼路").street_code == "110108005"
    assert find_place("朝阳区八里庄街道红庙").street_code == "110105015"


def test_longest_match_wins() -> None:
    m = find_place("朝阳门外")
    assert m.street_code == "110101007" and m.district_code == "110101"


def test_common_words_are_not_places() -> None:
    assert find_place("光明小区楼下养鸽子").district_code is None
    assert find_place("顺义区光明街道").street_code == "110113002"


def test_empty_text() -> None:
    assert find_place("").matched_text == ""
    assert find_place(None).district_code is None


def test_place_test_set_is_at_least_95_percent_right() -> None:
    with (DATA / "places.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 150
    right = 0
    for r in rows:
        m = find_place(r["text"])
        if r["ambiguous_candidates"]:
            expected = sorted(r["ambiguous_candidates"].split("|"))
            right += m.ambiguous and sorted(m.candidates) == expected
        else:
            right += (
                not m.ambiguous
                and (m.district_code or "") == r["district_code"]
                and (m.street_code or "") == r["street_code"]
            )
    assert right / len(rows) >= 0.95
    # Every expected ambiguity must be reported as one, never guessed.
    for r in rows:
        if r["ambiguous_candidates"]:
            assert find_place(r["text"]).ambiguous, r["text"]


def test_the_automaton_finds_what_the_longest_first_alternation_finds() -> None:
    # The gazetteer's place names are matched by an Aho–Corasick automaton (leftmost-longest);
    # a regex alternation of the same names, longest first, is the plain definition.
    g = gazetteer()
    plain = re.compile("|".join(re.escape(s) for s in sorted(g.entries, key=len, reverse=True)))
    rows = teddy_rows("fujian3_full_4326_likes.csv")
    texts = [r["留言主题"] + "\n" + r["留言详情"] for r in rows]
    texts += ["", "朝阳区望京街道望京西园", "海淀区八里庄街道", "东城区东华门街道景山街道"]
    matched = 0
    for text in texts:
        norm = _SPACE.sub("", unicodedata.normalize("NFKC", text))
        expected = [m.group() for m in plain.finditer(norm)]
        assert [s for _, s in g.automaton.iter_long(norm)] == expected
        matched += len(expected)
    assert matched > 1000
