"""Spatial hotspots over a small generated lake with one injected street surge."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from jiesu.demo.generate import Surge, generate
from jiesu.errors import InvalidInput, NotFound
from jiesu.governance.spatial import bh_qvalues, spatial_hotspots

STREET = "110105021"  # 南磨房地区, 朝阳区


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spatial") / "lake"
    surge = Surge("0101", STREET, date(2026, 10, 1), 31, 8.0)
    generate(200_000, out, end=date(2026, 10, 31), months=8, seed=7, workers=1, surges=(surge,))
    return out


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    q = bh_qvalues([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(q, [0.02, 0.04, 0.04, 0.02])


def test_the_injected_street_is_the_top_street_hotspot(lake: Path) -> None:
    body = spatial_hotspots(lake, "2026-10", category="0101", level="street")
    assert body["hotspots"][0]["area"] == STREET
    assert len(body["hotspots"]) <= 2  # a chance neighbour at most, among 343 streets
    hit = body["hotspots"][0]
    assert hit["observed"] > 3 * hit["expected"] and hit["q"] <= 0.05
    assert body["tested"] > 100


def test_the_injected_spot_is_an_h3_cell_named_after_its_street(lake: Path) -> None:
    body = spatial_hotspots(lake, "2026-10", category="01", level="h3", resolution=8)
    assert body["hotspots"], body
    assert body["hotspots"][0]["name"] == "南磨房地区附近"
    assert len(body["hotspots"][0]["area"]) == 15  # an H3 index


def test_a_month_without_injection_has_no_hotspot(lake: Path) -> None:
    for level in ("street", "h3"):
        assert spatial_hotspots(lake, "2026-09", category="0101", level=level)["hotspots"] == []


def test_bad_parameters_name_what_to_fix(lake: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="level"):
        spatial_hotspots(lake, "2026-10", level="hex")
    with pytest.raises(InvalidInput, match="category"):
        spatial_hotspots(lake, "2026-10", category="0101'; drop")
    with pytest.raises(InvalidInput, match="month"):
        spatial_hotspots(lake, "2026-13")
    with pytest.raises(NotFound, match="analytics refresh"):
        spatial_hotspots(tmp_path, "2026-10")
