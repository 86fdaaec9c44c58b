"""A place's window hands proposals a prepared candidate set that it grows case by case and
compares through a gram index it merges now and then; what it answers must always be what a
plain comparison with the window's cases, most recent first, answers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from jiesu.triage.duplicates import DupCandidate, cached_profile, find_duplicates
from jiesu.triage.window import DUP_LIMIT, DUP_WINDOW, _Window

from .conftest import teddy_rows

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
STREETS = ["110101001", "110101002", None]


def _plain(window: _Window, since: datetime) -> list[DupCandidate]:
    return [c for c in reversed(window.cases.values()) if c.created_at >= since]


def _answers(text: str, place: str | None, cands: list[DupCandidate]) -> list[object]:
    found = find_duplicates(text, place, cands, threshold=0.05, limit=DUP_LIMIT)
    return [(m.case_id, m.score, m.reasons) for m in found]


def test_the_prepared_window_answers_as_its_cases_do() -> None:
    rows = teddy_rows("fujian3_full_4326_likes.csv")
    texts = [r["留言主题"] + "\n" + r["留言详情"] for r in rows[:900]]
    rng = random.Random(7)

    def case(i: int, at: datetime) -> DupCandidate:
        t = texts[i % 700]
        return DupCandidate(i, t, STREETS[i % 3], at, "registered", cached_profile(t))

    start = [case(i, NOW - timedelta(days=40) + timedelta(hours=i)) for i in range(250)]
    window = _Window(0.0, 249, {c.case_id: c for c in start})
    next_id, clock = 250, NOW
    grown = rebuilt = 0
    for _ in range(60):
        clock += timedelta(minutes=30)
        since = clock - DUP_WINDOW
        kind = rng.random()
        if kind < 0.7:  # new cases, the oldest beyond 300 leave
            new = [case(next_id + k, clock) for k in range(rng.randint(1, 12))]
            next_id += len(new)
            window.add(new)
        elif kind < 0.85:  # a status change committed here: the set is made anew
            victim = rng.choice(list(window.cases))
            window.cases[victim] = window.cases[victim]._replace(status="dispatched")
            window.changed()
        else:  # a case's text changed (anonymised): not to be read from the index
            victim = rng.choice(list(window.cases))
            old = window.cases[victim]
            text = old.text[: len(old.text) // 2]
            window.cases[victim] = old._replace(text=text, profile=cached_profile(text))
            window.changed()
        before = window.ready
        ready = window.prepared(since)
        grown += before is not None and ready is not before
        rebuilt += before is None
        assert list(ready) == _plain(window, since)
        for text in rng.sample(texts[700:], 3):
            place = rng.choice(STREETS)
            assert _answers(text, place, ready) == _answers(text, place, _plain(window, since))
        assert window.index is not None
        assert len(ready.rest) <= 8  # the index is merged before it falls far behind
    assert grown > 20 and rebuilt > 5  # both paths were taken
