"""Heat index and place naming: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jiesu.governance.heat import heat
from jiesu.governance.places import affected_group, shared_place

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


def test_the_place_is_the_whole_name_the_citizens_share() -> None:
    titles = [
        "投诉A市伊景园滨河苑捆绑销售车位",
        "坚决反对伊景园滨河苑强制捆绑销售车位",
        "武广新城伊景园滨河苑违法捆绑销售车位,求解决",
        "A市伊景园滨河院捆绑销售车位",
    ]
    assert shared_place(titles) == "伊景园滨河苑"


def test_coded_admin_places_and_street_offices_are_not_compound_names() -> None:
    titles = [
        "A5区劳动东路魅力之城小区油烟扰民",
        "魅力之城小区临街门面油烟直排扰民",
        "A市A5区魅力之城小区一楼的夜宵摊严重污染附近的空气",
    ]
    assert shared_place(titles) == "魅力之城小区"
    assert shared_place(["暮云街道办事处不作为", "暮云街道又停电"]) == ""


def test_no_shared_place_gives_an_empty_place() -> None:
    assert shared_place(["公积金贷款额度怎么算", "社保转移手续咨询", "养老金何时调整"]) == ""


def test_affected_group_follows_the_words_citizens_use() -> None:
    assert affected_group(["我们是小区业主，开发商延期交房", "全体业主维权"]) == "业主"
    assert affected_group(["学校强制学生去工厂实习"]) == "学生"
    assert affected_group(["天气不错"]) == "市民"
