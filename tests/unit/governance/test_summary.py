"""The cockpit's governance summary: computed once over a generated lake, read back by pages."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from jiesu.cli import app
from jiesu.demo.generate import Surge, generate
from jiesu.errors import InvalidInput, NotFound
from jiesu.governance.candidates import monthly_candidates
from jiesu.governance.summary import (
    UnreadableSummary,
    read_summary,
    summarise,
    summary_path,
    write_summary,
)
from jiesu.governance.surges import surges
from jiesu.settings import get_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
MONTH = "2026-10"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("summary") / "lake"
    # 公用事业 in 海淀区 at four times its volume in the week of 12 October.
    surge = Surge("17", "110108", date(2026, 10, 12), 7, 4.0)
    generate(40_000, out, end=date(2026, 10, 31), months=14, seed=5, workers=1, surges=(surge,))
    return out


@pytest.fixture(scope="module")
def body(lake: Path) -> dict[str, Any]:
    return summarise(lake, MONTH, TZ, NOW)


def test_hot_topics_carry_their_evidence(body: dict[str, Any]) -> None:
    topics = body["topics"]
    assert topics["messages"] > 1000 and 1 <= len(topics["items"]) <= 10
    for t in topics["items"]:
        start, end = (datetime.fromisoformat(x).astimezone(TZ) for x in t["time_range"])
        assert start.strftime("%Y-%m") == end.strftime("%Y-%m") == MONTH
        assert t["messages"] >= len(t["samples"]) >= 1 and len(t["samples"]) <= 5
        times = [datetime.fromisoformat(s["at"]) for s in t["samples"]]
        assert times == sorted(times, reverse=True)  # the newest cases first
        assert all(start <= at <= end for at in times)
        assert all(s["id"].isdigit() and s["title"] for s in t["samples"])
    heats = [t["heat"] for t in topics["items"]]
    assert heats == sorted(heats, reverse=True)


def test_surges_are_those_of_each_complete_week_of_the_month(
    lake: Path, body: dict[str, Any]
) -> None:
    section = body["surges"]
    # The week of 26 October ends on 1 November, after the lake's last day: not complete.
    assert section["weeks"] == ["2026-10-05", "2026-10-12", "2026-10-19"]
    hit = [s for s in section["items"] if (s["category"], s["district"]) == ("17", "110108")]
    assert [s["week"] for s in hit] == ["2026-10-12"]
    assert hit[0]["actual"] > hit[0]["upper"] > hit[0]["forecast"] > hit[0]["lower"]
    # The same alerts as `jiesu governance surges --week` gives for each week.
    for week in section["weeks"]:
        alone = surges(lake, TZ, week=date.fromisoformat(week))["surges"]
        assert [s for s in section["items"] if s["week"] == week] == alone


def test_candidates_are_the_monthly_ranking(lake: Path, body: dict[str, Any]) -> None:
    section = body["candidates"]
    assert section["items"] == monthly_candidates(lake, MONTH, top=10)["candidates"]
    assert section["months"] == ["2025-11", MONTH]
    assert 0 < section["city_resolution_rate"] < 1
    first = section["items"][0]
    assert {"cases", "districts", "months_present", "repeat_share"} <= set(first)


def test_written_once_read_many_and_rewritten_atomically(
    lake: Path, body: dict[str, Any], tmp_path: Path
) -> None:
    path = write_summary(lake, body)
    assert path == summary_path(lake, MONTH) == lake / "_governance" / "2026-10.json"
    assert read_summary(lake, MONTH) == json.loads(path.read_text(encoding="utf-8"))
    assert read_summary(lake, "2026-09") is None
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    # A new computation replaces the file and the reader's cached copy follows it.
    again = {**body, "computed_at": "2026-11-03T01:00:00+00:00"}
    write_summary(lake, again)
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))
    read = read_summary(lake, MONTH)
    assert read is not None and read["computed_at"] == "2026-11-03T01:00:00+00:00"


def test_a_damaged_or_foreign_file_is_refused_not_shown(tmp_path: Path) -> None:
    folder = tmp_path / "_governance"
    folder.mkdir()
    (folder / "2026-08.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableSummary, match="not valid JSON"):
        read_summary(tmp_path, "2026-08")
    (folder / "2026-07.json").write_text(
        json.dumps({"format": 1, "month": "2026-06", "topics": {"items": []}}), encoding="utf-8"
    )
    with pytest.raises(UnreadableSummary, match="summary of 2026-07"):
        read_summary(tmp_path, "2026-07")
    (folder / "2026-06.json").write_text(
        json.dumps({"format": 1, "month": "2026-06", "topics": {"items": []}}), encoding="utf-8"
    )
    with pytest.raises(UnreadableSummary, match="surges"):
        read_summary(tmp_path, "2026-06")


def test_a_short_lake_keeps_the_reason_for_the_missing_section(tmp_path: Path) -> None:
    lake = tmp_path / "short"
    generate(3_000, lake, end=date(2026, 10, 31), months=1, seed=2, workers=1)
    body = summarise(lake, MONTH, TZ, NOW)
    assert "8 full weeks" in body["surges"]["error"]
    assert body["topics"]["items"] and body["candidates"]["items"]


def test_bad_month_and_missing_lake_are_refused(lake: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="2026-13"):
        summarise(lake, "2026-13", TZ, NOW)
    with pytest.raises(InvalidInput):
        read_summary(lake, "../../etc/passwd")
    with pytest.raises(NotFound, match="analytics refresh"):
        summarise(tmp_path / "none", MONTH, TZ, NOW)


def test_the_command_writes_the_summary_and_refuses_bad_input(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("JIESU_LAKE_DIR", str(lake))
    get_settings.cache_clear()
    try:
        ok = runner.invoke(app, ["governance", "summarise", "--month", "2026-09", "--topics", "3"])
        assert ok.exit_code == 0, ok.output
        assert "2026-09: topics: 3;" in ok.output and "surges:" in ok.output
        written = read_summary(lake, "2026-09")
        assert written is not None and len(written["topics"]["items"]) == 3
        bad = runner.invoke(
            app, ["governance", "summarise", "--month", "2026-08", "--month", "2026-13"]
        )
        assert bad.exit_code == 2 and "month must look like 2026-10" in bad.output
        assert read_summary(lake, "2026-08") is None  # refused before any work
        monkeypatch.setenv("JIESU_LAKE_DIR", str(lake.parent / "none"))
        get_settings.cache_clear()
        empty = runner.invoke(app, ["governance", "summarise", "--month", MONTH])
        assert empty.exit_code == 2 and "jiesu analytics refresh" in empty.output
    finally:
        get_settings.cache_clear()


def test_a_broken_section_is_recorded_and_the_command_fails(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jiesu.governance.candidates as candidates

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(candidates, "monthly_candidates", broken)
    monkeypatch.setenv("JIESU_LAKE_DIR", str(lake))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["governance", "summarise", "--month", "2026-07"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "failed: 2026-07 candidates" in result.output
    written = read_summary(lake, "2026-07")  # the two good sections are kept
    assert written is not None and written["topics"]["items"] and written["surges"]["weeks"]
    assert written["candidates"] == {"error": "RuntimeError: disk on fire", "failed": True}
