"""Heat index: a pure function, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jiesu.governance.heat import heat

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_more_citizens_outrank_one_person_repeating_himself() -> None:
    times = [NOW - timedelta(days=d) for d in range(5)]
    crowd = heat(times=times, citizens=5, support=0, against=0, reference=NOW)
    one = heat(times=times, citizens=1, support=0, against=0, reference=NOW)
    assert crowd.heat > one.heat


def test_support_raises_heat_and_opposition_lowers_it() -> None:
    times = [NOW]
    base = heat(times=times, citizens=1, support=0, against=0, reference=NOW).heat
    liked = heat(times=times, citizens=1, support=500, against=0, reference=NOW).heat
    disputed = heat(times=times, citizens=1, support=500, against=400, reference=NOW).heat
    assert base < disputed < liked


def test_a_rising_topic_is_hotter_than_a_fading_one() -> None:
    rising = [NOW - timedelta(days=d) for d in (1, 2, 3, 40)]
    fading = [NOW - timedelta(days=d) for d in (35, 40, 45, 50)]
    up = heat(times=rising, citizens=4, support=0, against=0, reference=NOW)
    down = heat(times=fading, citizens=4, support=0, against=0, reference=NOW)
    assert up.growth > 0 > down.growth
    assert up.heat > down.heat
