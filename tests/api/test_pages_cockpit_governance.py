"""The cockpit's governance panels read the month's summary file; they never compute it."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jiesu.analytics.export import refresh
from jiesu.analytics.lake import LakeState
from jiesu.clock import FixedClock
from jiesu.demo.generate import Surge, generate
from jiesu.governance.summary import summarise, summary_path, write_summary
from tests.api.pages_helpers import login
from tests.conftest import Database
from tests.helpers import TZ, register

MONTH = "2026-10"
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 14-month lake with a surge of 公用事业 in 海淀区, summarised for October."""
    out = tmp_path_factory.mktemp("cockpit-gov") / "lake"
    surge = Surge("17", "110108", date(2026, 10, 12), 7, 4.0)
    generate(40_000, out, end=date(2026, 10, 31), months=14, seed=5, workers=1, surges=(surge,))
    write_summary(out, summarise(out, MONTH, TZ, NOW))
    return out


def _use(client: TestClient, lake: Path) -> None:
    client.app.state.settings.lake_dir = str(lake)  # type: ignore[attr-defined]


def _table(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"')[1].split("</table>")[0]


def test_the_panels_show_each_item_with_its_evidence(
    client: TestClient, db: Database, generated: Path
) -> None:
    _use(client, generated)
    login(client, "leader")
    page = client.get(f"/cockpit?month={MONTH}").text
    body = json.loads(summary_path(generated, MONTH).read_text(encoding="utf-8"))
    assert "主动治理" in page and "由 jiesu governance summarise 于 2026-11-02 09:00 计算" in page
    assert "此后数据湖已更新" not in page
    topics = _table(page, "topics")
    first = body["topics"]["items"][0]
    assert first["description"] in topics and str(first["messages"]) in topics
    assert re.search(r"<td class=\"nowrap\">10-\d\d – 10-\d\d</td>", topics)
    sample = first["samples"][0]
    assert f'href="/cockpit/case/{sample["id"]}?month={MONTH}"' in topics
    assert sample["title"] in topics
    surges = _table(page, "surges")
    row = re.search(
        r"<td class=\"nowrap\">2026-10-12</td><td>公用事业</td><td>海淀区</td>(.*?)</tr>",
        surges,
        re.S,
    )
    assert row, surges
    hit = next(s for s in body["surges"]["items"] if s["district"] == "110108")
    assert f"<strong>{hit['actual']}</strong>" in row.group(1)
    assert f"{hit['lower']} – {hit['upper']}" in row.group(1)
    assert "2026-10-05, 2026-10-12, 2026-10-19" in page  # the weeks checked
    cands = _table(page, "candidates")
    top = body["candidates"]["items"][0]
    assert re.search(rf"<td>1</td><td>{top['parent']} › {top['name']}</td>", cands)
    city = body["candidates"]["city_resolution_rate"]
    assert f"({100 * city:.1f}%)" in cands  # the city's rate beside each category's


def test_english_labels(client: TestClient, db: Database, generated: Path) -> None:
    _use(client, generated)
    login(client, "leader")
    client.get("/lang?to=en&next=/cockpit")
    page = client.get(f"/cockpit?month={MONTH}").text
    for label in ("Proactive governance", "Hot topics", "Surge alerts", "Example cases"):
        assert label in page
    assert "Interval (95%)" in page and "Monthly-topic candidates (每月一题)" in page


def test_an_uncomputed_month_says_what_to_run(
    client: TestClient, db: Database, generated: Path
) -> None:
    _use(client, generated)
    login(client, "leader")
    page = client.get("/cockpit?month=2026-09").text
    assert 'id="gov-missing"' in page and "尚未计算" in page
    assert "<code>jiesu governance summarise --month 2026-09</code>" in page
    assert 'id="topics"' not in page


def test_a_refreshed_lake_a_broken_section_or_a_damaged_file_is_said(
    client: TestClient, db: Database, generated: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(generated, lake)
    _use(client, lake)
    state = LakeState.load(lake)
    state.refreshed_at = "2026-11-03T00:00:00+00:00"  # a refresh after the summary
    state.save(lake)
    login(client, "leader")
    page = client.get(f"/cockpit?month={MONTH}").text
    assert "此后数据湖已更新" in page and 'id="topics"' in page
    # A section whose computation broke says so, and the two others are still shown.
    body = json.loads(summary_path(lake, MONTH).read_text(encoding="utf-8"))
    body["candidates"] = {"error": "RuntimeError: disk on fire", "failed": True}
    write_summary(lake, body)
    page = client.get(f"/cockpit?month={MONTH}").text
    assert 'id="candidates-error"' in page and "计算出错" in page and "disk on fire" not in page
    assert 'id="topics"' in page and 'id="surges"' in page
    summary_path(lake, MONTH).write_text('{"format": 1', encoding="utf-8")
    page = client.get(f"/cockpit?month={MONTH}").text
    assert "无法读取" in page and 'id="topics"' not in page


def test_a_lake_from_the_database_links_topics_to_real_cases(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    text = "朝阳门幸福里小区3号楼电梯坏了一周，老人上下楼困难，希望尽快维修。"
    cases = [register(db, clock, text=text, category="050101") for _ in range(4)]
    register(db, clock, text="景山公园东门附近路灯不亮，晚上很黑。")
    lake = tmp_path / "lake"
    with db.factory() as session:
        refresh(session, lake, TZ, clock.now())
    body = summarise(lake, MONTH, TZ, clock.now())
    write_summary(lake, body)
    _use(client, lake)
    login(client, "leader")
    page = client.get(f"/cockpit?month={MONTH}").text
    # Two weeks of cases: no forecast yet, and the page says why in Chinese.
    assert 'id="surges-error"' in page and "预测至少需要 8 个完整周的历史数据" in page
    rows = _table(page, "topics").split("<tr>")
    lift = next(r for r in rows if "电梯" in r and "路灯" not in r)  # one topic, one problem
    linked = set(re.findall(r'href="/cockpit/case/(\d+)\?month=2026-10"', lift))
    assert len(linked) == 3 and linked <= {str(c.id) for c in cases}  # three examples of the four
    case = client.get(f"/cockpit/case/{min(linked)}?month={MONTH}")
    assert case.status_code == 200 and text in case.text
    assert 'href="/cockpit?month=2026-10"' in case.text  # back to the same month
    missing = client.get("/cockpit/case/999999")
    assert missing.status_code == 404 and "不在业务数据库中" in missing.text
    assert client.get("/cockpit/case/abc").status_code == 422
    assert client.get("/cockpit/case/1?month=2026-1x").status_code == 422


def test_the_case_page_is_for_the_cockpit_roles(client: TestClient, db: Database) -> None:
    login(client, "agent")
    assert client.get("/cockpit/case/1").status_code == 403
