"""Monthly-topic candidates: the ranking and its evidence over a generated lake."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jiesu.demo.generate import Surge, generate
from jiesu.errors import InvalidInput
from jiesu.governance.candidates import monthly_candidates


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("candidates") / "lake"
    # 物业服务 everywhere in Chaoyang at five times its usual volume all October.
    surge = Surge("0101", "110105", date(2026, 10, 1), 31, 5.0)
    generate(60_000, out, end=date(2026, 10, 31), months=12, seed=5, workers=1, surges=(surge,))
    return out


def test_candidates_are_ranked_by_score_with_their_evidence(lake: Path) -> None:
    body = monthly_candidates(lake, "2026-10", top=10)
    rows = body["candidates"]
    assert [r["rank"] for r in rows] == list(range(1, 11))
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    first = rows[0]
    assert 1 <= first["districts"] <= 16 and 0 <= first["months_present"] <= 12
    assert f"本月{first['cases']}件" in first["evidence"] and "解决率" in first["evidence"]


def test_a_surging_problem_climbs_the_list(lake: Path) -> None:
    october = [r["category"] for r in monthly_candidates(lake, "2026-10", top=100)["candidates"]]
    september = [r["category"] for r in monthly_candidates(lake, "2026-09", top=100)["candidates"]]
    assert october.index("0101") < september.index("0101")


def test_a_bad_month_is_refused() -> None:
    with pytest.raises(InvalidInput, match="month"):
        monthly_candidates(Path("."), "October")
