"""Scoring rules (DESIGN §6) on hand-made counts: rates, the 0.6 factor, weights, ranks."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiesu.assessment.scoring import (
    Policy,
    UnitCounts,
    UnitInfo,
    UnitScore,
    _by_composite,
    diff,
    focus_streets,
    policy_for,
    rates,
    score,
)

UNITS = {
    "S1": UnitInfo("S1", "甲街道", "street"),
    "S2": UnitInfo("S2", "乙街道", "street"),
    "S3": UnitInfo("S3", "丙街道", "street"),
    "D1": UnitInfo("D1", "东城区", "district"),
    "C1": UnitInfo("C1", "某社区", "community"),
}


def test_rates_follow_the_design_defaults() -> None:
    c = UnitCounts("S1", assessed=10, responded=9, resolved=7, partly=2, satisfied=6, basically=3)
    response, resolution, satisfaction, comp = rates(c, Policy())
    assert response == Fraction(9, 10)
    assert resolution == Fraction(7, 10)  # "partly" counts nothing by default
    assert satisfaction == Fraction(6 * 10 + 3 * 6, 100)  # (6 + 0.6·3) / 10
    assert comp == Fraction(1, 10) * response + Fraction(45, 100) * (resolution + satisfaction)


def test_policy_is_data_per_kind_and_period() -> None:
    strict = Policy(
        "street",
        "2026-07",
        Fraction(2, 10),
        Fraction(4, 10),
        Fraction(4, 10),
        Fraction(1, 2),
        Fraction(1, 2),
        20,
    )
    rows = [Policy(), strict]
    assert policy_for(rows, "street", "2026-06") == Policy()
    assert policy_for(rows, "street", "2026-07") is strict
    assert policy_for(rows, "district", "2026-07") == Policy()
    with pytest.raises(ValueError, match="sum to 1"):
        Policy(response_weight=Fraction(1, 2))


def test_ranks_within_groups_ties_and_minimum() -> None:
    counts = [
        UnitCounts("S1", 20, 20, 20, 0, 20, 0),
        UnitCounts("S2", 20, 20, 20, 0, 20, 0),  # tie with S1: both first
        UnitCounts("S3", 30, 30, 15, 0, 15, 0),
        UnitCounts("D1", 5, 5, 5, 0, 5, 0),  # below the minimum of 10: shown, unranked
        UnitCounts("C1", 50, 50, 50, 0, 50, 0),  # communities are not ranked on their own
    ]
    result = score("2026-10", counts, UNITS)
    streets = result.as_dict("streets")["units"]
    assert [(u["unit"], u["rank"]) for u in streets] == [("S1", 1), ("S2", 1), ("S3", 3)]
    districts = result.as_dict("districts")["units"]
    assert [(u["unit"], u["rank"], u["assessed"]) for u in districts] == [("D1", None, 5)]
    assert all(u.unit != "C1" for u in result.units)


def test_diff_names_the_figures_that_moved() -> None:
    before = score("2026-10", [UnitCounts("S1", 10, 10, 10, 0, 10, 0)], UNITS).as_dict()["units"]
    after = score("2026-10", [UnitCounts("S1", 9, 9, 9, 0, 9, 0)], UNITS).as_dict()["units"]
    changes = diff(before, after)
    assert changes == [
        {
            "unit": "S1",
            "change": "changed",
            "fields": {"assessed": {"from": 10, "to": 9}, "rank": {"from": 1, "to": None}},
        }
    ]
    assert diff(before, before) == []


def test_focus_streets_are_busy_and_weak() -> None:
    # S1 quiet and weak, S2 busy and good, S3 busiest and weakest.
    solved = {1: 10, 2: 180, 3: 0}
    counts = [UnitCounts(f"S{i}", 100 * i, 0, solved[i], 0, 0, 0) for i in (1, 2, 3)]
    units = {f"S{i}": UnitInfo(f"S{i}", f"街道{i}", "street") for i in (1, 2, 3)}
    chosen = focus_streets(score("2026-10", counts, units).units, 0.6, 0.4)
    assert [u.unit for u in chosen] == ["S3"]


@given(
    n=st.integers(1, 10**7),
    parts=st.lists(st.floats(0, 1), min_size=5, max_size=5),
    weights=st.sampled_from(
        [(Fraction(1, 10), Fraction(45, 100)), (Fraction(1, 3), Fraction(1, 3)), (0, 1)]
    ),
    factors=st.tuples(
        st.fractions(0, 1, max_denominator=97), st.fractions(0, 1, max_denominator=97)
    ),
)
def test_the_composite_is_exactly_the_weighted_sum_of_the_rates(
    n: int,
    parts: list[float],
    weights: tuple[Fraction, Fraction],
    factors: tuple[Fraction, Fraction],
) -> None:
    responded, resolved, satisfied = (int(f * n) for f in parts[:3])
    partly = int(parts[3] * (n - resolved))
    basically = int(parts[4] * (n - satisfied))
    rw, resw = Fraction(weights[0]), Fraction(weights[1])
    p = Policy(
        response_weight=rw,
        resolution_weight=resw,
        satisfaction_weight=1 - rw - resw,
        partly_factor=factors[0],
        basically_factor=factors[1],
    )
    c = UnitCounts("u", n, responded, resolved, partly, satisfied, basically)
    response, resolution, satisfaction, composite = rates(c, p)
    assert response == Fraction(responded, n)
    assert resolution == (resolved + p.partly_factor * partly) / n
    assert satisfaction == (satisfied + p.basically_factor * basically) / n
    assert composite == (
        p.response_weight * response
        + p.resolution_weight * resolution
        + p.satisfaction_weight * satisfaction
    )


def test_ordering_is_exact_where_floats_cannot_tell_composites_apart() -> None:
    c = UnitCounts("u", 1, 0, 0, 0, 0, 0)
    third = Fraction(1, 3)
    tiny = Fraction(1, 10**30)
    assert float(third) == float(third + tiny) == float(third - tiny)

    def unit(code: str, composite: Fraction) -> UnitScore:
        return UnitScore(code, code, "streets", c, third, third, third, composite, None)

    units = [unit("a", third - tiny), unit("b", third), unit("c", third + tiny), unit("d", third)]
    assert [u.unit for u in _by_composite(units)] == ["c", "b", "d", "a"]


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=40))
def test_ranks_match_an_exact_sort(pairs: list[tuple[int, int]]) -> None:
    counts = [
        UnitCounts(f"S{i:03d}", n + r, r, r, 0, n, 0) for i, (n, r) in enumerate(pairs) if n + r
    ]
    infos = {c.unit: UnitInfo(c.unit, c.unit, "street") for c in counts}
    result = score("2026-10", counts, infos, [Policy(min_cases=0)]).units
    exact = sorted(result, key=lambda u: (-u.composite, u.unit))
    assert [u.unit for u in result] == [u.unit for u in exact]
    for u in result:  # competition ranks: 1 + the number of strictly better units
        assert u.rank == 1 + sum(v.composite > u.composite for v in result)
