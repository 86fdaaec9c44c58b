"""Gazetteer: find the Beijing district and street/township (街乡镇) a text or address names.

Names are matched leftmost-longest, so 朝阳门 wins over 朝阳 and 大兴庄 over 大兴. A street
named without its suffix (望京 for 望京街道) counts, except for the short names that are also
ordinary words or famous places elsewhere (光明, 平房, 南口, 鼓楼, 河北 …): those count only when
the text also names the street's district. When the text names a district, street candidates
from other districts are dropped; what stays ambiguous (八里庄 is in both 朝阳 and 海淀) is
reported as ambiguous with its candidates rather than guessed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import ahocorasick

from jiesu.triage.text import nfkc

# Streets whose 9-digit code ends in 4xx are statistical areas (development zones, the Daxing
# airport), not 街乡镇; the 343 real streets/townships remain.
_STATISTICAL_FROM = 400
_STREET_SUFFIXES = ("地区办事处", "街道办事处", "回族乡", "满族乡", "街道", "地区", "镇", "乡")
_VARIANT_SUFFIXES = ("街道办事处", "地区办事处", "街道", "地区", "镇", "乡")
# Short names that are common words, or that name a better-known place outside their district:
# they count only when the same district is named too.
_WEAK_SHORT_NAMES = frozenset(
    [
        "东升",
        "东湖",
        "东风",
        "中仓",
        "仁和",
        "儒林",
        "光明",
        "八角",
        "兴丰",
        "北庄",
        "北苑",
        "南口",
        "古城",
        "向阳",
        "和义",
        "四海",
        "城关",
        "城北",
        "城南",
        "城子",
        "大台",
        "天桥",
        "宝山",
        "安定",
        "平房",
        "康庄",
        "文景",
        "新华",
        "新村",
        "新镇",
        "旧县",
        "星城",
        "曙光",
        "果园",
        "永宁",
        "永定",
        "沙河",
        "河北",
        "清水",
        "清河",
        "渤海",
        "温泉",
        "滨河",
        "石城",
        "石楼",
        "胜利",
        "荣华",
        "迎风",
        "长沟",
        "高岭",
        "鼓楼",
        "龙山",
        "龙泉",
        "龙潭",
        "空港",
        "杨庄",
        "峪口",
        "花园路",
        "十里堡",
        "老山",
        "广宁",
        "通运",
        "礼贤",
        "泉河",
        "石园",
        "金顶街",
        "体育馆路",
        "和平街",
        "海淀",
        "丰台",
        "怀柔",
    ]
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PlaceMatch:
    district_code: str | None
    street_code: str | None
    matched_text: str
    confidence: float
    ambiguous: bool
    candidates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "district_code": self.district_code,
            "street_code": self.street_code,
            "matched_text": self.matched_text,
            "confidence": round(self.confidence, 3),
            "ambiguous": self.ambiguous,
            "candidates": list(self.candidates),
        }


NO_PLACE = PlaceMatch(None, None, "", 0.0, False, [])


@dataclass(frozen=True)
class _Entry:
    kind: str  # "district", "street", "landmark"
    district_code: str
    street_code: str | None
    strength: int  # 3 full name, 2 alias/landmark, 1 short name, 0 weak short name


@dataclass(frozen=True)
class Street:
    code: str
    name: str
    district_code: str
    district_name: str


def short_name(name: str) -> str:
    for suffix in _STREET_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=1)
def streets() -> tuple[Street, ...]:
    raw = resources.files("jiesu.data").joinpath("beijing_streets.csv").read_text("utf-8-sig")
    out = []
    for row in csv.DictReader(io.StringIO(raw)):
        code = row["town_code_9"]
        if int(code[-3:]) >= _STATISTICAL_FROM:
            continue
        out.append(Street(code, row["town_name"], row["district_code"], row["district_name"]))
    return tuple(out)


@lru_cache(maxsize=1)
def districts() -> dict[str, str]:
    return {s.district_code: s.district_name for s in streets()}


class Gazetteer:
    def __init__(self) -> None:
        self.entries: dict[str, list[_Entry]] = {}
        for code, name in districts().items():
            self._add(name, _Entry("district", code, None, 3))
            self._add(name.removesuffix("区"), _Entry("district", code, None, 3))
        for s in streets():
            self._add(s.name, _Entry("street", s.district_code, s.code, 3))
            short = short_name(s.name)
            if short != s.name:
                for suffix in _VARIANT_SUFFIXES:
                    self._add(short + suffix, _Entry("street", s.district_code, s.code, 3))
                # A district's short name (丰台, 海淀) means the district, not the street.
                if short not in self.entries or self.entries[short][0].kind != "district":
                    weak = short in _WEAK_SHORT_NAMES
                    self._add(short, _Entry("street", s.district_code, s.code, 0 if weak else 1))
        text = resources.files("jiesu.triage").joinpath("data/landmarks.csv").read_text("utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            street = row["street_code"] or None
            self._add(row["alias"], _Entry("landmark", row["district_code"], street, 2))
        # One automaton over every surface: its leftmost-longest matches are what a regex
        # alternation of the surfaces, longest first, finds, in one pass instead of trying
        # ~2,000 alternatives at each position (tests/unit/triage/test_places.py compares).
        self.automaton = ahocorasick.Automaton()
        for surface in self.entries:
            self.automaton.add_word(surface, surface)
        self.automaton.make_automaton()

    def _add(self, surface: str, entry: _Entry) -> None:
        bucket = self.entries.setdefault(surface, [])
        if entry not in bucket:
            bucket.append(entry)

    def find(self, text: str | None) -> PlaceMatch:
        if not text:
            return NO_PLACE
        norm = _SPACE.sub("", nfkc(text))
        hits = [(s, self.entries[s]) for _, s in self.automaton.iter_long(norm)]
        named_districts: list[str] = []
        for _, entries in hits:
            for e in entries:
                names_district = e.kind == "district" or (
                    e.kind == "landmark" and e.street_code is None
                )
                if names_district and e.district_code not in named_districts:
                    named_districts.append(e.district_code)
        # Candidate streets, each hit ranked by how trustworthy the name is and how long.
        ranked: list[tuple[int, int, str, list[_Entry]]] = []
        for surface, entries in hits:
            found = [e for e in entries if e.street_code is not None]
            if not found:
                continue
            if named_districts:
                consistent = [e for e in found if e.district_code in named_districts]
                # A full street name contradicting the named district still stands (citizens
                # mix up districts), but only when nothing consistent was found.
                found = consistent or [e for e in found if e.strength == 3]
            else:
                found = [e for e in found if e.strength > 0]
            if found:
                ranked.append((max(e.strength for e in found), len(surface), surface, found))
        if ranked:
            return self._resolve_street(ranked, named_districts)
        if not named_districts:
            return NO_PLACE
        surface = next(s for s, es in hits if any(e.district_code in named_districts for e in es))
        if len(named_districts) == 1:
            return PlaceMatch(named_districts[0], None, surface, 0.9, False, [])
        return PlaceMatch(None, None, surface, 0.4, True, named_districts)

    @staticmethod
    def _resolve_street(
        ranked: list[tuple[int, int, str, list[_Entry]]], named_districts: list[str]
    ) -> PlaceMatch:
        ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
        strength, length, surface, entries = ranked[0]
        codes = sorted({e.street_code for e in entries if e.street_code})
        # Another hit as strong and as long naming a different street is just as likely.
        for s2, l2, _, e2 in ranked[1:]:
            if (s2, l2) == (strength, length):
                codes = sorted(set(codes) | {e.street_code for e in e2 if e.street_code})
        if len(codes) == 1:
            entry = entries[0]
            consistent = entry.district_code in named_districts
            confidence = {3: 0.95, 2: 0.85, 1: 0.8, 0: 0.75}[strength]
            if consistent:
                confidence = min(0.99, confidence + 0.04)
            elif named_districts:
                confidence = 0.6  # names a district the street is not in
            return PlaceMatch(entry.district_code, codes[0], surface, confidence, False, [])
        district_set = {c[:6] for c in codes}
        district = district_set.pop() if len(district_set) == 1 else None
        return PlaceMatch(district, None, surface, 1.0 / len(codes), True, codes)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer()


def find_place(text: str | None) -> PlaceMatch:
    return _find_place(text) if text and len(text) <= _CACHED_LENGTH else gazetteer().find(text)


# A proposal looks a text up more than once (for its window, then in the engine); the answers
# are frozen and their lists never changed, so the last few are kept.
_CACHED_LENGTH = 5000


@lru_cache(maxsize=64)
def _find_place(text: str) -> PlaceMatch:
    return gazetteer().find(text)
