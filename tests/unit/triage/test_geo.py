from __future__ import annotations

import pytest

from jiesu.triage.geo import distance_m, district_at, gcj02_to_wgs84, wgs84_to_gcj02


def test_tiananmen_is_in_dongcheng() -> None:
    assert district_at(39.9087, 116.3975) == "110101"


def test_a_point_in_haidian() -> None:
    assert district_at(39.9990, 116.3100) == "110108"  # Tsinghua/PKU area


def test_gcj02_input_is_not_shifted_again() -> None:
    lat, lon = wgs84_to_gcj02(39.9087, 116.3975)
    assert district_at(lat, lon, datum="gcj02") == "110101"


def test_outside_beijing_is_none() -> None:
    assert district_at(31.2304, 121.4737) is None  # Shanghai
    assert district_at(float("nan"), 116.4) is None


def test_unknown_datum_is_refused() -> None:
    with pytest.raises(ValueError, match="datum"):
        district_at(39.9, 116.4, datum="bd09")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lat", "lon"), [(39.9087, 116.3975), (40.45, 115.97), (39.6, 116.9), (22.54, 114.06)]
)
def test_round_trip_is_under_a_metre(lat: float, lon: float) -> None:
    g = wgs84_to_gcj02(lat, lon)
    assert distance_m(lat, lon, *g) > 100  # the shift is real, hundreds of metres
    back = gcj02_to_wgs84(*g)
    assert distance_m(lat, lon, *back) < 1.0


def test_outside_china_is_unchanged() -> None:
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)
