"""The per-process memory of valid tokens (jiesu.auth.cache), without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from jiesu.auth.actor import Actor
from jiesu.auth.cache import TokenCache
from jiesu.cases.workflow import Role

AGENT = Actor("agent", Role.AGENT)
EXPIRES = datetime(2026, 10, 12, 14, 0, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_remembered_for_the_ttl_only() -> None:
    ticks = Ticks()
    cache = TokenCache(ttl=5.0, clock=ticks)
    cache.put("d1", AGENT, EXPIRES, cache.generation)
    ticks.now += 4.9
    hit = cache.get("d1")
    assert hit is not None and hit.actor == AGENT and hit.expires_at == EXPIRES
    ticks.now += 0.1
    assert cache.get("d1") is None
    assert cache.get("never-seen") is None


def test_an_answer_read_before_a_change_is_not_kept() -> None:
    cache = TokenCache(clock=Ticks())
    before = cache.generation
    cache.clear()  # a revocation committed while the request was reading the old row
    cache.put("d1", AGENT, EXPIRES, before)
    assert cache.get("d1") is None
    cache.put("d1", AGENT, EXPIRES, cache.generation)
    assert cache.get("d1") is not None


def test_clear_forgets_everything_and_the_size_is_bounded() -> None:
    cache = TokenCache(max_entries=3, clock=Ticks())
    for i in range(3):
        cache.put(f"d{i}", AGENT, EXPIRES, cache.generation)
    assert all(cache.get(f"d{i}") is not None for i in range(3))
    cache.put("d3", AGENT, EXPIRES, cache.generation)  # full: starts over
    assert [cache.get(f"d{i}") is not None for i in range(4)] == [False, False, False, True]
    cache.clear()
    assert cache.get("d3") is None
