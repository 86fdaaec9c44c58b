"""Place naming and the affected group: pure functions, no database."""

from __future__ import annotations

from jiesu.governance.places import affected_group, shared_place


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
