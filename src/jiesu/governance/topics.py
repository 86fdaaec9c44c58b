"""Hot topics (热点问题): group messages about the same concrete problem in the same place,
name each group by its place and problem, and rank the groups by heat.

Text is represented twice and the two TF-IDF spaces are joined: jieba words (the problem:
噪音, 油烟, 搅拌站) and character 2–4-grams (place names jieba has never seen: 魅力之城,
伊景园滨河苑). Groups come from agglomerative clustering with average linkage on cosine
distance, cut at a fixed distance, so the number of topics follows the data. Large inputs are
split into blocks (by category when known) so memory stays quadratic in the block, not in the
whole month.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import jieba  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped,unused-ignore]
from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped,unused-ignore]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped,unused-ignore]
from sklearn.preprocessing import normalize  # type: ignore[import-untyped,unused-ignore]

from jiesu.governance import heat as heat_index
from jiesu.governance.places import (
    BROAD_SUFFIXES,
    admin_places,
    affected_group,
    candidates,
    shared_place,
)
from jiesu.governance.stopwords import COMMON
from jiesu.privacy.redact import redact

jieba.setLogLevel(60)  # jieba prints its dictionary loading on stderr otherwise

DISTANCE_THRESHOLD = 0.78
PLACE_WEIGHT = 0.4
PLACE_CHARS = 120
PLACE_MAX_DF = 30  # a "place" named in more messages than this is a city, not a compound
DETAIL_CHARS = 240  # the opening of a message names its place and problem; the rest is story
MAX_BLOCK = 6000
_NOISE = re.compile(r"[\s\u3000]+")
_STOP = COMMON | {
    "人",
    "一",
    "着",
    "看",
    "好",
    "自己",
    "您好",
    "你好",
    "市",
    "区",
    "县",
    "请问",
    "咨询",
    "投诉",
    "建议",
}


@dataclass(frozen=True)
class Message:
    id: str
    title: str
    body: str
    at: datetime
    citizen: str = ""
    support: int = 0
    against: int = 0
    block: str = ""  # category or other key that two messages must share to be grouped


@dataclass
class Topic:
    rank: int
    heat: float
    description: str
    place: str
    admin_place: str
    affected_group: str
    time_range: tuple[datetime, datetime]
    message_ids: list[str]
    keywords: list[str]
    parts: heat_index.HeatParts
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": f"T{self.rank:03d}",
            "heat": self.heat,
            # Built from citizens' titles, read by leaders and analysts: no number in it (#16).
            "description": redact(self.description),
            "place": self.place,
            "admin_place": self.admin_place,
            "affected_group": self.affected_group,
            "time_range": [self.time_range[0].isoformat(), self.time_range[1].isoformat()],
            "keywords": self.keywords,
            "message_ids": self.message_ids,
            "evidence": self.parts.as_dict(),
        }


@lru_cache(maxsize=200_000)
def _cut(text: str) -> tuple[str, ...]:
    # HMM off: new words are the character n-grams' job, and it halves jieba's time.
    return tuple(
        w for w in jieba.lcut(text, HMM=False) if len(w) > 1 and w not in _STOP and not w.isdigit()
    )


def _words(text: str) -> list[str]:
    return list(_cut(text))


def _doc(m: Message) -> str:
    body = _NOISE.sub(" ", m.body)[:DETAIL_CHARS]
    # The title twice: it is the citizen's own summary of place and problem.
    return f"{m.title} {m.title} {body}"


def _vectorise(docs: Sequence[str]) -> tuple[sp.csr_matrix, TfidfVectorizer]:
    words = TfidfVectorizer(
        tokenizer=_words, token_pattern=None, lowercase=False, sublinear_tf=True, min_df=1
    )
    chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True, min_df=2)
    xw = words.fit_transform(docs)
    try:
        xc = chars.fit_transform(docs)
    except ValueError:  # tiny inputs: no character n-gram occurs twice
        xc = sp.csr_matrix((len(docs), 0))
    x = sp.hstack([xw, 0.8 * normalize(xc)]).tocsr() if xc.shape[1] else xw
    return normalize(x), words


def _place_vectors(block: Sequence[Message]) -> sp.csr_matrix:
    """IDF-weighted indicator vectors of the specific place names each message opens with."""
    found = [candidates(f"{m.title} {m.body[:PLACE_CHARS]}") for m in block]
    df: Counter[str] = Counter(name for names in found for name in names)
    cap = max(PLACE_MAX_DF, len(block) // 100)
    vocab = {name: i for i, name in enumerate(n for n, c in df.items() if 2 <= c <= cap)}
    rows, cols, vals = [], [], []
    for r, names in enumerate(found):
        for name in names:
            col = vocab.get(name)
            if col is not None:
                rows.append(r)
                cols.append(col)
                vals.append(float(np.log(len(block) / df[name])))
    x = sp.csr_matrix((vals, (rows, cols)), shape=(len(block), len(vocab)), dtype=np.float32)
    # No place named twice in the block: nothing to normalise (sklearn refuses 0 columns).
    return normalize(x) if x.shape[1] else x


def cluster(messages: Sequence[Message], threshold: float = DISTANCE_THRESHOLD) -> list[list[int]]:
    """Indices of `messages` grouped by topic, each group sorted by time."""
    if not messages:
        return []
    blocks: dict[str, list[int]] = {}
    for i, m in enumerate(messages):
        blocks.setdefault(m.block, []).append(i)
    groups: list[list[int]] = []
    for members in blocks.values():
        for start in range(0, len(members), MAX_BLOCK):
            chunk = members[start : start + MAX_BLOCK]
            groups.extend(_cluster_block([messages[i] for i in chunk], chunk, threshold))
    groups = _merge_by_place(messages, groups)
    return [sorted(g, key=lambda i: messages[i].at) for g in groups]


def _merge_by_place(messages: Sequence[Message], groups: list[list[int]]) -> list[list[int]]:
    """Second pass: groups of the same block that name the same place and whose words overlap
    are one topic told differently (伊景园滨河苑 车位 in two styles of title)."""
    keyed: dict[tuple[str, str], list[int]] = {}
    for g, idx in enumerate(groups):
        if len(idx) < 2:
            continue
        place = shared_place([f"{messages[i].title} {messages[i].body[:PLACE_CHARS]}" for i in idx])
        if len(place) >= 3 and not place.endswith(BROAD_SUFFIXES):
            keyed.setdefault((messages[idx[0]].block, place), []).append(g)
    # Places match when one contains the other (丽发新城 / 丽发新城小区).
    entries = sorted(keyed.items(), key=lambda kv: len(kv[0][1]))
    merged: dict[int, int] = {}
    for pos, ((block, place), members) in enumerate(entries):
        for (block2, place2), members2 in entries[pos:]:
            if block2 == block and place in place2:
                for g in members2:
                    if g != members[0] and g not in merged:
                        merged[g] = members[0]
    for g, root in list(merged.items()):
        # Same place but a different problem (cracks vs. cooking fumes at one compound) stays
        # apart: the titles must share at least two words.
        a = Counter(w for i in groups[g] for w in set(_words(messages[i].title)))
        b = Counter(w for i in groups[root] for w in set(_words(messages[i].title)))
        if len(set(a) & set(b)) < 2:
            del merged[g]
    while any(r in merged for r in merged.values()):
        merged = {g: merged.get(r, r) for g, r in merged.items()}
    out: dict[int, list[int]] = {}
    for g, idx in enumerate(groups):
        out.setdefault(merged.get(g, g), []).extend(idx)
    return list(out.values())


def _cluster_block(
    block: Sequence[Message], index: Sequence[int], threshold: float
) -> list[list[int]]:
    if len(block) == 1:
        return [[index[0]]]
    x, _ = _vectorise([_doc(m) for m in block])
    sim = (x @ x.T).toarray().astype(np.float32)
    places = _place_vectors(block)
    if places.shape[1]:
        # Two messages naming the same specific place are likelier one topic than their
        # wording says: 伊景园滨河苑 in both titles outweighs different stories in the body.
        sim = (1 - PLACE_WEIGHT) * sim + PLACE_WEIGHT * (places @ places.T).toarray()
    distance = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=threshold,
    ).fit_predict(distance)
    out: dict[int, list[int]] = {}
    for pos, label in enumerate(labels):
        out.setdefault(int(label), []).append(index[pos])
    return list(out.values())


def _keywords(texts: Sequence[str], place: str, k: int = 5) -> list[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(_words(text)))
    picked = [w for w, _ in counts.most_common(40) if w not in place and place.find(w) < 0]
    return picked[:k]


def _medoid_title(group: Sequence[Message]) -> str:
    """The title closest to all others: the citizens' own best one-line summary."""
    titles = [m.title or m.body[:40] for m in group]
    if len(titles) <= 2:
        return titles[0]
    x, _ = _vectorise(titles)
    centre = np.asarray(x.mean(axis=0)).ravel()
    scores = x @ centre
    return titles[int(np.argmax(scores))]


def describe(group: Sequence[Message]) -> tuple[str, str, str, list[str]]:
    """(description, place, admin place, keywords) of one group."""
    titles = [m.title for m in group if m.title]
    place = shared_place(titles) if titles else ""
    if not place:
        place = shared_place([f"{m.title} {m.body[:DETAIL_CHARS]}" for m in group])
    admins = Counter(a for m in group for a in admin_places(f"{m.title} {m.body[:120]}"))
    # The most specific coded admin place: 区/县 over 市 when both are named.
    admin = ""
    if admins:
        ranked = sorted(admins.items(), key=lambda kv: (kv[0][-1] != "市", kv[1]), reverse=True)
        admin = ranked[0][0]
    keywords = _keywords([f"{m.title} {m.title} {m.body[:DETAIL_CHARS]}" for m in group], place)
    title = _medoid_title(group).strip()
    return title, place, admin, keywords


def _score(group: list[Message], ref: datetime) -> heat_index.HeatParts:
    return heat_index.heat(
        times=[m.at for m in group],
        citizens=len({m.citizen or m.id for m in group}),
        support=sum(m.support for m in group),
        against=sum(m.against for m in group),
        reference=ref,
    )


Scored = list[tuple[heat_index.HeatParts, list[Message]]]


def _fold_same_place(scored: Scored, ref: datetime) -> Scored:
    """The hottest groups, with any two that name the same specific place and share two
    keywords folded into one: the ranked list shows each problem once."""
    described = [(parts, group, describe(group)) for parts, group in scored]
    out: list[tuple[list[Message], str, list[str]]] = []
    for _, group, (_, place, _, keywords) in described:
        for kept in out:
            specific = len(place) >= 3 and not place.endswith(BROAD_SUFFIXES)
            if specific and kept[1] == place and set(kept[2]) & set(keywords):
                kept[0].extend(group)
                break
        else:
            out.append((list(group), place, keywords))
    refolded = [
        (_score(sorted(g, key=lambda m: m.at), ref), sorted(g, key=lambda m: m.at))
        for g, _, _ in out
    ]
    refolded.sort(key=lambda item: (-item[0].heat, item[1][0].at))
    return refolded


def hot_topics(
    messages: Sequence[Message],
    *,
    top: int = 10,
    reference: datetime | None = None,
    min_citizens: int = 1,
    threshold: float = DISTANCE_THRESHOLD,
) -> list[Topic]:
    """The `top` hottest topics. `reference` is "now" for growth (default: the last message)."""
    if not messages:
        return []
    ref = reference or max(m.at for m in messages)
    scored: Scored = []
    for idx in cluster(messages, threshold):
        group = [messages[i] for i in idx]
        parts = _score(group, ref)
        if parts.citizens >= min_citizens:
            scored.append((parts, group))
    scored.sort(key=lambda item: (-item[0].heat, item[1][0].at))
    scored = _fold_same_place(scored[: 3 * top], ref) + scored[3 * top :]
    topics = []
    for rank, (parts, group) in enumerate(scored[:top], start=1):
        title, place, admin, keywords = describe(group)
        texts = [f"{m.title} {m.body}" for m in group]
        topics.append(
            Topic(
                rank=rank,
                heat=parts.heat,
                description=title,
                place=place,
                admin_place=admin,
                affected_group=affected_group(texts),
                time_range=(group[0].at, group[-1].at),
                message_ids=[m.id for m in group],
                keywords=keywords,
                parts=parts,
            )
        )
    return topics
