"""Possible duplicates of a new request among open or recent cases (并单 candidates).

Text similarity is the weighted Jaccard of character 2- and 3-grams over CJK letters and digits,
with the grams every complaint shares (我们, 小区, 希望, 部门 …) left out; the same street adds to
the score and a different known street takes from it, because the same wording about two places
is two problems. The score is for ranking and for the merge offer; the dispatcher decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from jiesu.cases.workflow import OPEN
from jiesu.triage.text import nfkc

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
    t = _KEEP.sub(" ", nfkc(text).lower())
    out: dict[str, float] = {}
    for run in t.split():
        for n, weight in ((2, BIGRAM_WEIGHT), (3, TRIGRAM_WEIGHT)):
            for i in range(len(run) - n + 1):
                g = run[i : i + n]
                if g not in _FILLER and not g.isdigit():
                    out[g] = weight
    return out


# A gram's key is its code points side by side, 21 bits each (every code point fits): exact,
# so two texts share a key exactly when they share the gram. A 3-gram's first code point is at
# least '0' (48), so every 3-gram key is at or above TRIGRAM_KEYS and every 2-gram key below.
_BITS = 21
TRIGRAM_KEYS = 48 << (2 * _BITS)
_NO_KEYS = np.zeros(0, dtype=np.int64)


def _key(gram: str) -> int:
    out = 0
    for ch in gram:
        out = (out << _BITS) | ord(ch)
    return out


_FILLER_KEYS = np.array(sorted(_key(g) for g in _FILLER if len(g) in (2, 3)), dtype=np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class Profile:
    """A text's distinct 2- and 3-grams as sorted integer keys (a 2-gram weighs 1, a 3-gram
    1.5): what two texts share is found with array searches, many candidates at once."""

    keys: np.ndarray  # int64, sorted, unique
    weight: float

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self.weight == other.weight and np.array_equal(self.keys, other.keys)

    __hash__ = None  # type: ignore[assignment]


def _weights(keys: np.ndarray) -> np.ndarray:
    return np.where(keys >= TRIGRAM_KEYS, TRIGRAM_WEIGHT, BIGRAM_WEIGHT)


def profile(text: str) -> Profile:
    """The keys of exactly the grams `grams(text)` keeps, from one pass over the code points."""
    t = _KEEP.sub(" ", nfkc(text).lower())
    cp = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    kept = cp != 32  # after the substitution, a space is exactly what is not kept
    digit = (cp >= 48) & (cp <= 57)
    parts = []
    for n in (2, 3):
        if len(cp) < n:
            continue
        m = len(cp) - n + 1
        key = cp[:m].copy()
        ok = kept[:m].copy()
        all_digits = digit[:m].copy()
        for j in range(1, n):
            key = (key << _BITS) | cp[j : j + m]
            ok &= kept[j : j + m]
            all_digits &= digit[j : j + m]
        parts.append(key[ok & ~all_digits])
    if not parts:
        return Profile(_NO_KEYS, 0.0)
    keys = np.unique(np.concatenate(parts))
    keys = keys[~np.isin(keys, _FILLER_KEYS, assume_unique=True)]
    return Profile(keys, float(_weights(keys).sum()))


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


def _shared(mine: Profile, keys: np.ndarray, owners: np.ndarray, size: int) -> np.ndarray:
    """Weight each of `size` owners shares with `mine`, from their keys laid end to end."""
    if not len(mine.keys) or not len(keys):
        return np.zeros(size)
    at = np.searchsorted(mine.keys, keys)
    at[at == len(mine.keys)] = 0
    hit = mine.keys[at] == keys
    return np.bincount(owners[hit], weights=_weights(keys[hit]), minlength=size)


class GramIndex:
    """Many cases' gram keys in one sorted array with their owners: the weight each case
    shares with one text comes from two binary searches per key of the text, not one pass per
    case. Keyed by case id and profile (a case whose text has changed since, anonymised say,
    is not taken for the one indexed). A place's window keeps one and merges new cases in."""

    def __init__(
        self, ids: Sequence[int], profiles: Sequence[Profile], base: GramIndex | None = None
    ) -> None:
        """`base`: an index over many of the same cases; its sorted keys are reused, so only
        the cases new since are sorted and merged in (a stable sort of two sorted runs)."""
        given = np.asarray(ids, dtype=np.int64)
        order = np.argsort(given)
        self.ids = given[order]
        self.profiles = [profiles[i] for i in order.tolist()]  # in the order of ids
        self.keys: np.ndarray
        self.owners: np.ndarray  # positions in self.ids
        runs_keys: list[np.ndarray] = []
        runs_owners: list[np.ndarray] = []
        new = np.arange(len(self.ids))
        if base is not None and len(base.keys):
            before = base.slots(self.ids, self.profiles)
            held = before >= 0
            moved = np.full(len(base.ids), -1, dtype=np.intp)  # old position -> new one
            moved[before[held]] = np.flatnonzero(held)
            owners = moved[base.owners]
            kept = owners >= 0
            runs_keys.append(base.keys[kept])
            runs_owners.append(owners[kept])
            new = np.flatnonzero(~held)
        if len(new):
            keys = [self.profiles[i].keys for i in new.tolist()]
            flat = np.concatenate(keys)
            owners = np.repeat(new, [len(k) for k in keys])
            by_key = np.argsort(flat, kind="stable")
            runs_keys.append(flat[by_key])
            runs_owners.append(owners[by_key])
        if not runs_keys:
            self.keys, self.owners = _NO_KEYS, np.zeros(0, dtype=np.intp)
            return
        flat = np.concatenate(runs_keys)
        # Sorted runs side by side: the stable sort (a merge sort) merges them in linear time.
        by_key = np.argsort(flat, kind="stable")
        self.keys = flat[by_key]
        self.owners = np.concatenate(runs_owners)[by_key]

    def slots(self, ids: np.ndarray, profiles: Sequence[Profile]) -> np.ndarray:
        """Each case's position in this index, or -1 if it does not hold the case with this
        very profile (a case whose text has changed since is not the one indexed)."""
        if not len(self.ids):
            return np.full(len(ids), -1, dtype=np.intp)
        at = np.searchsorted(self.ids, ids)
        at[at == len(self.ids)] = 0
        at = np.where(self.ids[at] == ids, at, -1)
        for i, slot in enumerate(at.tolist()):
            if slot >= 0 and self.profiles[slot] is not profiles[i]:
                at[i] = -1
        return at

    def shared(self, mine: Profile) -> np.ndarray:
        """The weight each held case shares with `mine`, in the order of `ids`."""
        if not len(mine.keys) or not len(self.keys):
            return np.zeros(len(self.ids))
        left = np.searchsorted(self.keys, mine.keys, "left")
        count = np.searchsorted(self.keys, mine.keys, "right") - left
        total = int(count.sum())
        if not total:
            return np.zeros(len(self.ids))
        ends = np.cumsum(count)
        at = np.arange(total) + np.repeat(left - ends + count, count)
        return np.bincount(
            self.owners[at], weights=_weights(self.keys[at]), minlength=len(self.ids)
        )


class CandidateSet(list[DupCandidate]):
    """Candidates made ready to be compared with many texts: their ids, weights and streets
    as arrays, and which of them a gram index holds. A place's window keeps one set per state
    and grows it as cases come (`grown`), so a proposal does no per-candidate Python work."""

    def __init__(
        self,
        items: Iterable[DupCandidate],
        index: GramIndex | None = None,
        *,
        arrays: tuple[list[Profile], np.ndarray, np.ndarray, np.ndarray] | None = None,
        slots: np.ndarray | None = None,
    ) -> None:
        super().__init__(items)
        if arrays is None:
            self.profiles = [c.profile or cached_profile(c.text) for c in self]
            self.ids = np.fromiter((c.case_id for c in self), dtype=np.int64, count=len(self))
            self.weights = np.fromiter(
                (p.weight for p in self.profiles), dtype=np.float64, count=len(self)
            )
            self.streets = np.array([c.street_code or "" for c in self], dtype=object)
        else:
            self.profiles, self.ids, self.weights, self.streets = arrays
        self.use(index, slots)

    def use(self, index: GramIndex | None, slots: np.ndarray | None = None) -> None:
        """Compare through `index` from now on (a window's index is merged from time to time);
        `slots`, the candidates' positions in it, when the caller knows them."""
        self.gram_index = index
        if slots is None:
            slots = (
                index.slots(self.ids, self.profiles)
                if index is not None
                else np.full(len(self), -1, dtype=np.intp)
            )
        self.slots = slots
        self.rest = np.flatnonzero(self.slots < 0)
        keys = [self.profiles[i].keys for i in self.rest.tolist()]
        self.rest_keys = np.concatenate(keys) if keys else _NO_KEYS
        self.rest_owners = np.repeat(np.arange(len(keys)), [len(k) for k in keys])

    def grown(self, newest: Sequence[DupCandidate], keep: int) -> CandidateSet:
        """This set with `newest` (most recent first) in front and only its first `keep`."""
        new = CandidateSet(newest, self.gram_index)
        return CandidateSet(
            [*newest, *self[:keep]],
            self.gram_index,
            arrays=(
                [*new.profiles, *self.profiles[:keep]],
                np.concatenate([new.ids, self.ids[:keep]]),
                np.concatenate([new.weights, self.weights[:keep]]),
                np.concatenate([new.streets, self.streets[:keep]]),
            ),
            slots=np.concatenate([new.slots, self.slots[:keep]]),
        )

    def shared(self, mine: Profile) -> np.ndarray:
        """The weight of grams each candidate shares with `mine`, in their order: those in the
        index read from it, the others (a few, while the index catches up) one pass for all."""
        out = np.zeros(len(self))
        if self.gram_index is not None and len(self.rest) < len(self):
            held = self.slots >= 0
            out[held] = self.gram_index.shared(mine)[self.slots[held]]
        if len(self.rest):
            out[self.rest] = _shared(mine, self.rest_keys, self.rest_owners, len(self.rest))
        return out

    def shifts(self, place: str | None) -> np.ndarray:
        """The street's part of each score: more on the same street, less on another one."""
        if not place:
            return np.zeros(len(self))
        shift = np.where(self.streets == place, SAME_STREET_BOOST, -OTHER_STREET_PENALTY)
        return np.where(self.streets != "", shift, 0.0)


def profile_similarity(a: Profile, b: Profile) -> float:
    """text_similarity of the two texts' grams, to the last bit: the weights are multiples of
    0.5, so every sum is exact whatever its order."""
    if not a.weight or not b.weight:
        return 0.0
    shared = float(_shared(a, b.keys, np.zeros(len(b.keys), dtype=np.intp), 1)[0])
    union = a.weight + b.weight - shared
    return shared / union if union else 0.0


def _shared_words(a: dict[str, float], b: Profile, n: int = 5) -> list[str]:
    # The longest shared trigrams, not contained in one another, show what the two are about.
    theirs = set(b.keys[b.keys >= TRIGRAM_KEYS].tolist())
    shared = [g for g in a if len(g) == 3 and _key(g) in theirs]
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
    A CandidateSet (a place's window hands one out, with its gram index) is compared as it is;
    any other sequence is made one first.
    """
    if now is not None:
        candidates = [
            c for c in candidates if c.status in OPEN or now - c.created_at <= CLOSED_WINDOW
        ]
    if not candidates:
        return []
    ready = candidates if isinstance(candidates, CandidateSet) else CandidateSet(candidates)
    mine = cached_profile(text)
    shared = ready.shared(mine)
    union = mine.weight + ready.weights - shared
    sim = np.divide(shared, union, out=np.zeros(len(ready)), where=union > 0)
    shift = ready.shifts(place)
    score = np.clip(sim + shift, 0.0, 1.0)
    picked = np.flatnonzero(score >= threshold)
    if not len(picked):
        return []
    # Best first, ties in candidate order (a stable sort of the scores, highest first);
    # matches, reasons and shared words are only built for the ones shown: a street with many
    # similar open cases must not make every proposal slow.
    best = picked[np.argsort(-score[picked], kind="stable")][:limit]
    mine_grams = grams(text)
    out = []
    for i in best.tolist():
        c = ready[i]
        reasons = [f"text similarity {sim[i]:.2f}"]
        if shift[i] > 0:
            reasons.append(f"same street {place}")
        elif shift[i] < 0:
            reasons.append(f"different street {c.street_code}")
        words = _shared_words(mine_grams, ready.profiles[i])
        if words:
            reasons.append("shared: " + " ".join(words))
        out.append(
            DupMatch(
                c.case_id, c.text, c.street_code, c.created_at, c.status, float(score[i]), reasons
            )
        )
    return out
