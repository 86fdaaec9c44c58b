"""Possible duplicates of a new request among open or recent cases (并单 candidates).

Text similarity is the weighted Jaccard of character 2- and 3-grams over CJK letters and digits,
with the grams every complaint shares (我们, 小区, 希望, 部门 …) left out; the same street adds to
the score and a different known street takes from it, because the same wording about two places
is two problems. The score is for ranking and for the merge offer; the dispatcher decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

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
SAME_STREET_BOOST = 0.1
OTHER_STREET_PENALTY = 0.15
DEFAULT_THRESHOLD = 0.25
CLOSED_WINDOW = timedelta(days=30)
_OPEN_STATUSES = frozenset({"registered", "dispatched", "acknowledged", "returned", "replied"})


@dataclass(frozen=True)
class DupCandidate:
    case_id: int
    text: str
    street_code: str | None
    created_at: datetime
    status: str


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
        for n, weight in ((2, 1.0), (3, 1.5)):
            for i in range(len(run) - n + 1):
                g = run[i : i + n]
                if g not in _FILLER and not g.isdigit():
                    out[g] = weight
    return out


@lru_cache(maxsize=8192)
def _cached_grams(text: str) -> dict[str, float]:
    # Open cases are compared with every new request; their grams are computed once.
    return grams(text)


def text_similarity(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) < len(b) else (b, a)
    shared = sum(w for g, w in small.items() if g in large)
    union = sum(a.values()) + sum(b.values()) - shared
    return shared / union if union else 0.0


def _shared_words(a: dict[str, float], b: dict[str, float], n: int = 5) -> list[str]:
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
    mine = grams(text)
    out: list[DupMatch] = []
    for c in candidates:
        if (
            now is not None
            and c.status not in _OPEN_STATUSES
            and now - c.created_at > CLOSED_WINDOW
        ):
            continue
        theirs = _cached_grams(c.text)
        sim = text_similarity(mine, theirs)
        score = sim
        reasons = [f"text similarity {sim:.2f}"]
        if place and c.street_code:
            if place == c.street_code:
                score += SAME_STREET_BOOST
                reasons.append(f"same street {place}")
            else:
                score -= OTHER_STREET_PENALTY
                reasons.append(f"different street {c.street_code}")
        score = max(0.0, min(1.0, score))
        if score >= threshold:
            out.append(
                DupMatch(c.case_id, c.text, c.street_code, c.created_at, c.status, score, reasons)
            )
    out.sort(key=lambda m: m.score, reverse=True)
    # The shared words are only worked out for the matches shown: a street with many
    # similar open cases must not make every proposal slow.
    for match in out[:limit]:
        words = _shared_words(mine, _cached_grams(match.text))
        if words:
            match.reasons.append("shared: " + " ".join(words))
    return out[:limit]
