"""Reply quality on hand-written request/reply pairs modelled on the competition's 附件4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jiesu.governance.reply_quality import assess_reply

ASKED = datetime(2019, 3, 1, 9, 0, tzinfo=UTC)
REQUEST = (
    "请求取缔A4区通泰街的黑网吧。家住通泰街附近，小孩经常去黑网吧上网，希望有关部门取缔黑网吧。"
)
GOOD = (
    "网友您好！经调查，您所指网吧位于通泰街街道西园社区，确实存在让未成年人进入的现象。"
    "根据《互联网上网服务营业场所管理条例》第三十一条规定，区文化执法大队已于3月5日责令该网吧"
    "停业整顿。下一步将加强巡查，如有疑问请拨打0731-88888888。"
)
EMPTY = "网友：您好！留言已收悉"


def test_a_full_timely_reply_scores_high() -> None:
    q = assess_reply(REQUEST, GOOD, requested_at=ASKED, replied_at=ASKED + timedelta(days=5))
    assert q.grade in ("A", "B")  # relevance is lexical: the reply says 网吧, not 小孩
    assert all(q.elements.values())
    assert q.timeliness == 1.0


def test_an_empty_acknowledgement_scores_low_and_says_why() -> None:
    q = assess_reply(REQUEST, EMPTY, requested_at=ASKED, replied_at=ASKED + timedelta(days=48))
    assert q.grade == "D"
    joined = " ".join(q.reasons)
    assert "依据" in joined and "过短" in joined and "48.0天" in joined


def test_a_late_reply_loses_only_timeliness() -> None:
    on_time = assess_reply(REQUEST, GOOD, requested_at=ASKED, replied_at=ASKED + timedelta(days=3))
    late = assess_reply(REQUEST, GOOD, requested_at=ASKED, replied_at=ASKED + timedelta(days=30))
    assert late.score < on_time.score
    assert late.relevance == on_time.relevance and late.completeness == on_time.completeness


def test_an_off_topic_reply_is_flagged_as_irrelevant() -> None:
    off = (
        "经核实，燃气公司已于近日完成管道检修，依据《城镇燃气管理条例》执行，咨询电话12345678901。"
    )
    q = assess_reply(REQUEST, off)
    good = assess_reply(REQUEST, GOOD)
    assert q.relevance < good.relevance
    assert q.timeliness is None


def test_a_reply_before_the_request_is_refused() -> None:
    with pytest.raises(ValueError, match="before the request"):
        assess_reply(REQUEST, GOOD, requested_at=ASKED, replied_at=ASKED - timedelta(days=1))
