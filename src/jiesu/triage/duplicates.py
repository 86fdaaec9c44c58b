"""Possible duplicates of a new request among open or recent cases (并单 candidates).

Text similarity is the weighted Jaccard of character 2- and 3-grams over CJK letters and digits,
with the grams every complaint shares (我们, 小区, 希望, 部门 …) left out; the same street adds to
the score and a different known street takes from it, because the same wording about two places
is two problems. The score is for ranking and for the merge offer; the dispatcher decides.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

_KEEP = re.compile(r"[^\u4e00-\u9fff0-9a-z]+")
# Grams of the hotline register itself, frequent in every message regardless of the problem.
_FILLER = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "小区",
        "希望",
        "部门",
        "相关",
        "有关",
        "领导",
        "政府",
        "问题",
        "请求",
        "要求",
        "反映",
        "这个",
        "一个",
        "没有",
        "已经",
        "现在",
        "我们的",
        "居民",
        "业主",
        "处理",
        "解决",
        "尽快",
        "情况",
        "进行",
        "市民",
        "您好",
        "尊敬",
        "谢谢",
        "感谢",
        "严重",
        "影响",
        "非常",
        "时间",
        "可以",
        "还是",
        "但是",
        "因为",
        "所以",
        "如果",
        "就是",
        "什么",
        "怎么",
        "目前",
        "一直",
        "多次",
        "至今",
        "以上",
        "以下",
        "的",
        "了",
        "是",
        "在",
    ]
)
BIGRAM_WEIGHT = 1.0
TRIGRAM_WEIGHT = 1.5
SAME_STREET_BOOST = 0.1
OTHER_STREET_PENALTY = 0.15
DEFAULT_THRESHOLD = 0.25
CLOSED_WINDOW = timedelta(days=30)
_OPEN_STATUSES = frozenset({"registered", "dispatched", "acknowledged", "returned", "replied"})


class DupCandidate(NamedTuple):
    # A named tuple, not a frozen dataclass: a proposal builds up to 300 of these from rows,
    # and a frozen dataclass's __init__ costs several times a tuple's.
    case_id: int
    text: str
    street_code: str | None
    created_at: datetime
    status: str
    # Its grams, when the caller keeps them (triage/window.py computes them once per case).
    profile: Profile | None = None


@dataclass(frozen=True)
class DupMatch:
    case_id: int
    text: str
    street_code: str | None
    created_at: datetime
    status: str
    score: float
    reasons: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "case_id": self.case_id,
            "street_code": self.street_code,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
        }


def grams(text: str) -> dict[str, float]:
    t = _KEEP.sub(" ", unicodedata.normalize("NFKC", text).lower())
    out: dict[str, float] = {}
    for run in t.split():
        for n, weight in ((2, BIGRAM_WEIGHT), (3, TRIGRAM_WEIGHT)):
            for i in range(len(run) - n + 1):
                g = run[i : i + n]
                if g not in _FILLER and not g.isdigit():
                    out[g] = weight
    return out


@dataclass(frozen=True, slots=True)
class Profile:
    """A text's grams as two sets (every 2-gram weighs 1, every 3-gram 1.5), so the shared
    weight of two texts is two set intersections in C instead of a loop over one of them."""

    bigrams: frozenset[str]
    trigrams: frozenset[str]
    weight: float


def profile(text: str) -> Profile:
    g = grams(text)
    bigrams = frozenset(k for k in g if len(k) == 2)
    trigrams = frozenset(k for k in g if len(k) == 3)
    return Profile(bigrams, trigrams, len(bigrams) + TRIGRAM_WEIGHT * len(trigrams))


@lru_cache(maxsize=8192)
def cached_profile(text: str) -> Profile:
    # Open cases are compared with every new request; their grams are computed once (and a
    # new request's own, computed to compare it, serve again when it joins the window).
    return profile(text)


def text_similarity(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) < len(b) else (b, a)
    shared = sum(w for g, w in small.items() if g in large)
    union = sum(a.values()) + sum(b.values()) - shared
    return shared / union if union else 0.0


def profile_similarity(a: Profile, b: Profile) -> float:
    """text_similarity of the two texts' grams, to the last bit: the weights are multiples of
    0.5, so every sum is exact whatever its order."""
    if not a.weight or not b.weight:
        return 0.0
    shared = len(a.bigrams & b.bigrams) + TRIGRAM_WEIGHT * len(a.trigrams & b.trigrams)
    union = a.weight + b.weight - shared
    return shared / union if union else 0.0


def _similarity_if(a: Profile, b: Profile, need: float) -> float | None:
    """profile_similarity(a, b), or None as soon as a bound shows it is below `need`.

    Similarity s/(Wa+Wb-s) grows with the shared weight s, so any upper bound on s bounds it:
    first the lighter text's whole weight (a one-line note against a long letter), then the
    shared 2-grams plus every 3-gram the lighter side has (most unrelated pairs share few
    2-grams, and the 3-gram intersection is skipped). Sums of 1 and 1.5 are exact and float
    division is monotonic, so a bound is never below the similarity it bounds."""
    total = a.weight + b.weight
    if need <= 0.0 or not a.weight or not b.weight:
        return profile_similarity(a, b)
    light = min(a.weight, b.weight)
    if light / (total - light) < need:
        return None
    shared2 = len(a.bigrams & b.bigrams)
    most = shared2 + TRIGRAM_WEIGHT * min(len(a.trigrams), len(b.trigrams))
    if most < total and most / (total - most) < need:
        return None
    shared = shared2 + TRIGRAM_WEIGHT * len(a.trigrams & b.trigrams)
    return shared / (total - shared)


def _clip(score: float) -> float:
    return max(0.0, min(1.0, score))


def _shared_words(a: dict[str, float], b: Collection[str], n: int = 5) -> list[str]:
    # The longest shared trigrams, not contained in one another, show what the two are about.
    shared = sorted((g for g in a if len(g) == 3 and g in b), key=lambda g: -len(g))
    picked: list[str] = []
    for g in shared:
        if not any(g[:2] in p or g[1:] in p for p in picked):
            picked.append(g)
        if len(picked) == n:
            break
    return picked


def find_duplicates(
    text: str,
    place: str | None,
    candidates: Sequence[DupCandidate],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    now: datetime | None = None,
    limit: int = 5,
) -> list[DupMatch]:
    """Candidates scoring ≥ threshold, best first.

    `place` is the new request's street code. With `now`, closed cases older than 30 days are
    skipped (open cases always count: DESIGN §5 offers open or recently closed cases for merge).
    """
    mine = cached_profile(text)
    scored: list[tuple[float, float, float, DupCandidate]] = []
    for c in candidates:
        if (
            now is not None
            and c.status not in _OPEN_STATUSES
            and now - c.created_at > CLOSED_WINDOW
        ):
            continue
        theirs = c.profile or cached_profile(c.text)
        shift = 0.0
        if place and c.street_code:
            shift = SAME_STREET_BOOST if place == c.street_code else -OTHER_STREET_PENALTY
        # Below a positive threshold a score needs sim + shift ≥ threshold; the slack keeps
        # a pair at the boundary for the exact check below, whatever the rounding.
        need = threshold - shift - 1e-9 if threshold > 0 else 0.0
        sim = _similarity_if(mine, theirs, need)
        if sim is None:
            continue
        score = _clip(sim + shift)
        if score >= threshold:
            scored.append((score, sim, shift, c))
    # Best first, ties in candidate order (nlargest is sorted(..., reverse=True)[:limit]);
    # matches, reasons and shared words are only built for the ones shown: a street with many
    # similar open cases must not make every proposal slow.
    mine_grams = grams(text) if scored else {}
    out = []
    for score, sim, shift, c in heapq.nlargest(limit, scored, key=lambda x: x[0]):
        reasons = [f"text similarity {sim:.2f}"]
        if shift > 0:
            reasons.append(f"same street {place}")
        elif shift < 0:
            reasons.append(f"different street {c.street_code}")
        words = _shared_words(mine_grams, (c.profile or cached_profile(c.text)).trigrams)
        if words:
            reasons.append("shared: " + " ".join(words))
        out.append(
            DupMatch(c.case_id, c.text, c.street_code, c.created_at, c.status, score, reasons)
        )
    return out
