"""Forecasts, surge alerts and the backtest over a generated lake with an injected surge."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jiesu.demo.generate import Surge, generate
from jiesu.errors import InvalidInput
from jiesu.governance.forecast import forecast
from jiesu.governance.surges import backtest, surges

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("forecast") / "lake"
    # 公用事业 in 海淀区 at four times its volume in the week of 12 October.
    surge = Surge("17", "110108", date(2026, 10, 12), 7, 4.0)
    generate(150_000, out, end=date(2026, 10, 25), months=14, seed=3, workers=1, surges=(surge,))
    return out


def test_the_injected_surge_is_alerted_in_its_week_only(lake: Path) -> None:
    hit = surges(lake, TZ, week=date(2026, 10, 14))
    assert hit["week"] == "2026-10-12"
    found = [(r["category"], r["district"]) for r in hit["surges"]]
    assert ("17", "110108") in found
    row = hit["surges"][found.index(("17", "110108"))]
    assert row["actual"] > row["upper"] and row["ratio"] > 2
    before = surges(lake, TZ, week=date(2026, 10, 5))
    assert ("17", "110108") not in [(r["category"], r["district"]) for r in before["surges"]]
    # Alerts are the exception, not the rule: a few of ~300 series at most.
    assert len(before["surges"]) < 0.05 * before["series"]


def test_forecasts_have_ordered_intervals_for_each_week_ahead(lake: Path) -> None:
    body = forecast(lake, TZ, category="17", district="110108", horizon=4)
    assert body["last_week"] == "2026-10-19"
    weeks = [r["week"] for r in body["forecasts"]]
    assert weeks == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
    assert all(r["lower"] <= r["forecast"] <= r["upper"] for r in body["forecasts"])


def test_backtest_scores_methods_against_the_seasonal_naive(lake: Path) -> None:
    body = backtest(lake, TZ, horizon=4, origins=4)
    rows = {r["method"]: r for r in body["methods"]}
    assert set(rows) == {"snaive", "snaive_drift"}
    assert rows["snaive"]["mase_vs_snaive"] == 1.0
    assert all(r["mase"] > 0 and 0 < r["smape"] < 200 for r in rows.values())
    assert rows["snaive_drift"]["coverage"] > 0.8  # a 95% band that covers most weeks


def test_bad_requests_are_refused_clearly(lake: Path) -> None:
    with pytest.raises(InvalidInput, match="method"):
        forecast(lake, TZ, method="arima")
    with pytest.raises(InvalidInput, match="horizon"):
        forecast(lake, TZ, horizon=40)
    with pytest.raises(InvalidInput, match="no series"):
        forecast(lake, TZ, district="999999")
    with pytest.raises(ValueError, match="--surge"):
        Surge.parse("17:110108:yesterday:7:4")
