"""`jiesu import messages` on both databases: a message-board export with labels and replies."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from jiesu.cases.models import Case, CaseEvent
from jiesu.cli import app
from jiesu.clock import FixedClock
from jiesu.importers.common import CATCH_ALL_CATEGORY, RowError
from jiesu.importers.messages import MessageColumns, import_messages
from jiesu.importers.models import ExternalRef
from jiesu.settings import get_settings
from tests.conftest import Database
from tests.integration.test_import_nyc311 import purge
from tests.shared_data import shared_data

TZ = ZoneInfo("Asia/Shanghai")
BOARD = MessageColumns(
    text=["留言主题", "留言详情"],
    time="留言时间",
    label="一级分类",
    id="留言编号",
    reply="答复意见",
    reply_time="答复时间",
)


@pytest.fixture
def idb(db: Database) -> Iterator[Database]:
    yield db
    purge(db)


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "board.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_labels_replies_times_and_bad_rows(
    idb: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "留言编号,留言主题,留言时间,留言详情,一级分类,答复意见,答复时间\n"
        '101,小区停车难,2019/4/25 9:32:09,"物业乱收停车费，\n请查处。",城乡建设,'
        "已责成物业整改。,2019/5/6 10:00:00\n"
        "102,学校食堂,2019/5/1 8:00:00,食堂卫生差,教育文体,,\n"
        "103,问个事,not-a-time,没有时间,城乡建设,,\n"
        "104,外星人,2019/5/2 8:00:00,UFO,星际事务,,\n"
        "105,答复早于留言,2019/5/2 8:00:00,怪事,环境保护,已答复,2019/5/1 8:00:00\n",
    )
    with idb.uow() as uow:
        report = import_messages(uow, clock, path, BOARD, tz=TZ, source="board")
    assert [(b.line, b.reason.split(":")[0]) for b in report.bad] == [
        (5, "留言时间"),
        (7, "答复时间 is before 留言时间"),
    ]
    assert report.imported == 3 and report.unmapped == {"星际事务": 1}
    with idb.factory() as s:

        def by_id(ext: str) -> Case:
            case_id = s.scalar(select(ExternalRef.case_id).where(ExternalRef.external_id == ext))
            case = s.get(Case, case_id)
            assert case is not None
            return case

        replied = by_id("101")
        assert replied.status == "replied" and replied.category == "05"  # 城乡建设 by name
        assert replied.text == "小区停车难\n物业乱收停车费，\n请查处。"
        assert replied.reply_text == "已责成物业整改。"
        # 9:32:09 in Beijing (UTC+8) → 01:32:09 UTC; the reply keeps its own time.
        assert replied.created_at == datetime(2019, 4, 25, 1, 32, 9, tzinfo=UTC)
        assert replied.replied_at == datetime(2019, 5, 6, 2, 0, tzinfo=UTC)
        actions = s.scalars(
            select(CaseEvent.action).where(CaseEvent.case_id == replied.id).order_by(CaseEvent.id)
        ).all()
        assert list(actions) == ["register", "dispatch", "acknowledge", "reply"]
        assert by_id("102").status == "registered" and by_id("102").category == "09"  # alias
        assert by_id("104").category == CATCH_ALL_CATEGORY
        actors = set(s.scalars(select(CaseEvent.actor)))
        assert actors == {"import:board"}


def test_no_id_column_uses_row_hash_and_rerun_adds_nothing(
    idb: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "一级分类,text_title_plus_detail,时间\n"
        "环境保护,工厂夜间排放废气,2020-01-02 03:04:05\n"
        "劳动和社会保障,拖欠工资三个月,2020-01-03 03:04:05\n",
        encoding="gbk",
    )
    cols = MessageColumns(text=["text_title_plus_detail"], time="时间", label="一级分类")
    with idb.uow() as uow, pytest.raises(RowError, match="encoding"):
        import_messages(uow, clock, path, cols, tz=TZ)
    with idb.uow() as uow:
        first = import_messages(uow, clock, path, cols, tz=TZ, encoding="gbk")
    with idb.uow() as uow:
        again = import_messages(uow, clock, path, cols, tz=TZ, encoding="gbk")
    assert first.imported == 2 and again.imported == 0 and again.duplicates == 2
    with idb.factory() as s:
        refs = s.scalars(select(ExternalRef.external_id)).all()
        assert len(refs) == 2 and all(r.startswith("sha256:") for r in refs)
        assert set(s.scalars(select(Case.category))) == {"10", "08"}


def test_real_replies_file_through_the_cli(
    idb: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first 200 messages of fujian4 (real replies), to keep the test fast.
    replies = shared_data("teddycup2020_c", "fujian4_full_2816_replies.csv")
    lines = replies.read_text(encoding="utf-8")
    head = tmp_path / "fujian4_head.csv"
    rows = list(csv.reader(io.StringIO(lines)))[:201]
    with head.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    monkeypatch.setenv("JIESU_DATABASE_URL", idb.url)
    get_settings.cache_clear()
    try:
        args = ["import", "messages", str(head), "--text-column", "留言主题"]
        args += ["--text-column", "留言详情", "--time-column", "留言时间"]
        args += ["--id-column", "留言编号", "--reply-column", "答复意见"]
        args += ["--reply-time-column", "答复时间", "--source", "teddy4"]
        out = CliRunner().invoke(app, args)
        wrong = CliRunner().invoke(app, [*args[:3], "--text-column", "标题", "--time-column", "x"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "200 rows read, 200 cases imported" in out.output
    assert wrong.exit_code == 2 and "missing column(s) 标题, x" in wrong.output
    with idb.factory() as s:
        assert s.scalar(select(func.count()).where(Case.status == "replied")) == 200
        assert s.scalar(select(func.count()).where(Case.lead_unit == "IMPORT-MSG")) == 200
