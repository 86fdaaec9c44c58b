from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from jiesu.triage.duplicates import (
    CandidateSet,
    DupCandidate,
    GramIndex,
    Profile,
    find_duplicates,
    grams,
    profile,
    profile_similarity,
    text_similarity,
)

from .conftest import DATA, teddy_rows

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEXT = "丽发新城小区旁边修建搅拌站，灰尘噪音污染严重，影响居民休息"


def cand(case_id: int, text: str, street: str | None = None, **kw: object) -> DupCandidate:
    created = kw.get("created_at", NOW - timedelta(days=1))
    status = kw.get("status", "dispatched")
    return DupCandidate(case_id, text, street, created, str(status))  # type: ignore[arg-type]


def test_similar_text_is_found_and_unrelated_is_not() -> None:
    found = find_duplicates(
        TEXT,
        None,
        [cand(1, "丽发新城附近修建搅拌站，灰尘和噪音污染严重"), cand(2, "地铁站口黑车拉客")],
        threshold=0.25,
    )
    assert [m.case_id for m in found] == [1]
    assert found[0].reasons[0].startswith("text similarity")


def test_same_street_ranks_first() -> None:
    text = "丽发新城附近修建搅拌站，灰尘和噪音污染严重"
    found = find_duplicates(
        TEXT, "110105026", [cand(1, text, "110108005"), cand(2, text, "110105026")], threshold=0.1
    )
    assert [m.case_id for m in found] == [2, 1]
    assert any("same street" in r for r in found[0].reasons)


def test_old_closed_cases_are_skipped_open_ones_kept() -> None:
    old = NOW - timedelta(days=60)
    found = find_duplicates(
        TEXT,
        None,
        [cand(1, TEXT, created_at=old, status="closed"), cand(2, TEXT, created_at=old)],
        threshold=0.25,
        now=NOW,
    )
    assert [m.case_id for m in found] == [2]


def test_labelled_pairs_precision_and_recall() -> None:
    msgs = {
        r["留言编号"]: r["留言主题"] + "\n" + r["留言详情"]
        for r in teddy_rows("fujian3_full_4326_likes.csv")
    }
    with (DATA / "dup_pairs.csv").open(encoding="utf-8", newline="") as f:
        pairs = list(csv.DictReader(f))
    assert len(pairs) >= 150
    tp = fp = fn = 0
    for p in pairs:
        hit = bool(find_duplicates(msgs[p["id_a"]], None, [cand(1, msgs[p["id_b"]])]))
        dup = p["is_duplicate"] == "1"
        tp += hit and dup
        fp += hit and not dup
        fn += dup and not hit
    assert tp / (tp + fp) >= 0.9
    assert tp / (tp + fn) >= 0.7


_GRAMS: dict[str, dict[str, float]] = {}


def _reference(
    text: str, place: str | None, candidates: list[DupCandidate], threshold: float, limit: int
) -> list[tuple[int, float, list[str]]]:
    """The plain algorithm: every candidate's grams against the text's, no sets, no bounds."""
    mine = grams(text)
    out = []
    for c in candidates:
        theirs = _GRAMS.get(c.text) or _GRAMS.setdefault(c.text, grams(c.text))
        sim = text_similarity(mine, theirs)
        score, reasons = sim, [f"text similarity {sim:.2f}"]
        if place and c.street_code:
            if place == c.street_code:
                score += 0.1
                reasons.append(f"same street {place}")
            else:
                score -= 0.15
                reasons.append(f"different street {c.street_code}")
        score = max(0.0, min(1.0, score))
        if score >= threshold:
            out.append((c.case_id, score, reasons))
    out.sort(key=lambda m: m[1], reverse=True)
    return out[:limit]


def test_the_fast_finder_answers_exactly_as_the_plain_algorithm() -> None:
    # Real messages of 附件3, on three streets, at thresholds where the length and 2-gram
    # bounds cut (0.25, 0.4) and where they must not (0, a negative shift below 0.15).
    rows = teddy_rows("fujian3_full_4326_likes.csv")
    texts = [r["留言主题"] + "\n" + r["留言详情"] for r in rows[:400]]
    streets = ["110101001", "110101002", None]
    pool = [cand(i, t, streets[i % 3]) for i, t in enumerate(texts[:200])]
    # Cut copies of the new messages score all along 0…1 with the bounds nearly tight: the
    # pairs where a bound too eager would drop a true match.
    for i, t in enumerate(texts[200:260]):
        pool += [cand(1000 + 10 * i + k, t[: len(t) * k // 10], streets[k % 3]) for k in (2, 4, 6)]
    checked = 0
    for threshold in (0.0, 0.1, 0.25, 0.4):
        for i, text in enumerate(texts[200:260]):
            place = streets[i % 3]
            # Every match, not only the five shown, so a wrongly dropped weak one shows too.
            fast = find_duplicates(text, place, pool, threshold=threshold, limit=len(pool))
            plain = _reference(text, place, pool, threshold, len(pool))
            shown = [
                (m.case_id, m.score, [r for r in m.reasons if "shared" not in r]) for m in fast
            ]
            assert shown == [(cid, score, reasons) for cid, score, reasons in plain]
            checked += len(plain)
    assert checked > 3000  # the comparison covered real matches, not only empty answers
    a, b = grams(texts[0]), grams(texts[1])
    assert profile_similarity(profile(texts[0]), profile(texts[1])) == text_similarity(a, b)


def _decode(key: int) -> str:
    chars = []
    while key:
        chars.append(chr(key & ((1 << 21) - 1)))
        key >>= 21
    return "".join(reversed(chars))


def test_a_profile_holds_exactly_the_grams_and_their_weight() -> None:
    rows = teddy_rows("fujian3_full_4326_likes.csv")
    texts = [r["留言主题"] + "\n" + r["留言详情"] for r in rows[:300]]
    texts += ["", "，。！", "ａｂｃ１２３ＡＢＣ", "12345 6789", "𠀀𠀁路口 积水", "的了 我们小区"]
    for text in texts:
        p, g = profile(text), grams(text)
        assert sorted(_decode(k) for k in p.keys.tolist()) == sorted(g)
        assert p.weight == sum(g.values())
        assert list(p.keys) == sorted(p.keys)


def profile_of(c: DupCandidate) -> Profile:
    assert c.profile is not None
    return c.profile


def test_the_gram_index_answers_as_the_candidates_one_by_one() -> None:
    # A window's index is merged from its previous one as cases come and go; what it answers
    # must be what comparing every candidate on its own answers.
    rows = teddy_rows("fujian3_full_4326_likes.csv")
    texts = [r["留言主题"] + "\n" + r["留言详情"] for r in rows[:500]]
    streets = ["110101001", "110101002", None]
    pool = [cand(i, t, streets[i % 3]) for i, t in enumerate(texts[:300])]
    profiles = [profile(c.text) for c in pool]
    pool = [c._replace(profile=p) for c, p in zip(pool, profiles, strict=True)]
    index = GramIndex(list(range(200)), profiles[:200])
    for step in range(5):
        # Some leave, new ones come, a few not yet indexed: like a place's window over time.
        live = pool[step * 20 : 200 + step * 20]
        held = live[:-5]
        index = GramIndex([c.case_id for c in held], [profile_of(c) for c in held], base=index)
        for i, text in enumerate(texts[300 + step * 30 : 330 + step * 30]):
            place = streets[i % 3]
            ready = CandidateSet(live, index)
            assert len(ready.rest) == 5  # the last five are compared one by one
            with_index = find_duplicates(text, place, ready, threshold=0.0, limit=300)
            alone = find_duplicates(text, place, live, threshold=0.0, limit=300)
            assert [(m.case_id, m.score, m.reasons) for m in with_index] == [
                (m.case_id, m.score, m.reasons) for m in alone
            ]
            assert len(alone) == len(live)  # threshold 0: every candidate is scored and shown
        fresh = GramIndex(index.ids.tolist(), index.profiles)
        assert fresh.keys.tolist() == index.keys.tolist()
        assert sorted(zip(fresh.keys.tolist(), fresh.owners.tolist(), strict=True)) == sorted(
            zip(index.keys.tolist(), index.owners.tolist(), strict=True)
        )
