"""The packaged reference data (units, taxonomy, 派单目录) and the checks on a centre's own CSV."""

from __future__ import annotations

from collections import Counter

import pytest

from jiesu.units.catalog import (
    LIVELIHOOD_DIMENSIONS,
    CatalogError,
    load_categories,
    load_routing_rules,
    load_units,
    parse_categories_csv,
    parse_units_csv,
)

UNITS_HEADER = "code,name,kind,parent_code,aliases\n"
CATS_HEADER = "code,name,level,parent_code,livelihood_dimension,urgency\n"


def test_beijing_has_16_districts_and_343_streets() -> None:
    kinds = Counter(u.kind for u in load_units())
    assert kinds["district"] == 16
    assert kinds["street"] == 343


def test_statistical_areas_are_not_streets() -> None:
    names = {u.name for u in load_units()}
    assert "北京经济技术开发区" not in names
    assert "大兴国际机场" not in names
    assert "亦庄地区" in names


def test_every_street_hangs_under_a_district() -> None:
    units = {u.code: u for u in load_units()}
    for unit in units.values():
        if unit.kind == "street":
            assert unit.parent_code is not None
            assert units[unit.parent_code].kind == "district"
            assert unit.code.startswith(unit.parent_code)


def test_same_street_name_in_two_districts_keeps_two_codes() -> None:
    units = {u.code: u for u in load_units()}
    baliz = [u for u in units.values() if u.name == "八里庄街道"]
    assert sorted((u.code, units[u.parent_code or ""].name) for u in baliz) == [
        ("110105015", "朝阳区"),
        ("110108005", "海淀区"),
    ]


def test_departments_and_enterprises_have_short_names() -> None:
    by_code = {u.code: u for u in load_units()}
    assert by_code["D001"].name == "北京市住房和城乡建设委员会"
    assert "市住房城乡建设委" in by_code["D001"].aliases
    assert "自来水" in by_code["E001"].aliases
    assert sum(u.kind == "department" for u in by_code.values()) >= 30
    assert sum(u.kind == "enterprise" for u in by_code.values()) >= 12


def test_taxonomy_is_three_levels_with_parents_one_level_up() -> None:
    cats = {c.code: c for c in load_categories()}
    levels = Counter(c.level for c in cats.values())
    assert 15 <= levels[1] <= 20
    for cat in cats.values():
        assert cat.livelihood_dimension in LIVELIHOOD_DIMENSIONS
        if cat.level == 1:
            assert cat.parent_code is None
        else:
            assert cat.parent_code is not None
            assert cats[cat.parent_code].level == cat.level - 1
            assert cat.code.startswith(cat.parent_code)
    names = {c.name for c in cats.values()}
    for top in ("住房", "市场管理", "医疗卫生", "交通管理", "劳动和社会保障", "教育", "疫情防控"):
        assert top in names


def test_outages_are_prompt_and_dangers_urgent() -> None:
    by_name = {c.name: c for c in load_categories()}
    assert by_name["停水"].urgency == "prompt"
    assert by_name["室温不达标"].urgency == "prompt"
    assert by_name["燃气泄漏"].urgency == "urgent"
    assert by_name["电梯困人"].urgency == "urgent"
    assert by_name["物业收费"].urgency is None


def test_routing_table_has_catch_all_to_district_and_known_targets() -> None:
    rules = {r.category_prefix: r for r in load_routing_rules()}
    assert rules[""].target == "@district"
    units = {u.code: u for u in load_units()}
    cats = {c.code for c in load_categories()}
    for rule in rules.values():
        assert rule.category_prefix == "" or rule.category_prefix in cats
        for target in (rule.target, *rule.co_targets):
            assert target in ("@street", "@district") or target in units
    heating = next(c for c in load_categories() if c.name == "供热")
    assert units[rules[heating.code].target].name == "北京市热力集团有限责任公司"


def test_unit_parse_error_names_the_line() -> None:
    text = UNITS_HEADER + "110101,东城区,district,,\n110101001,东华门街道,street,119999,\n"
    with pytest.raises(CatalogError, match=r"line 3: parent_code 119999 .* not in the file"):
        parse_units_csv(text)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("110101,东城区,district,,\n110101,东城区,district,,\n", r"line 3: duplicate code 110101"),
        ("110101,东城区,county,,\n", r"line 2: unknown kind 'county'"),
        ("110101001,东华门街道,street,,\n", r"line 2: street 110101001 needs a parent_code"),
        (
            "D1,市交通委,department,,\nS1,某街道,street,D1,\n",
            r"line 3: parent D1 .* is a department",
        ),
    ],
)
def test_unit_parse_errors(body: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_units_csv(UNITS_HEADER + body)


def test_missing_column_is_reported_on_the_header() -> None:
    with pytest.raises(CatalogError, match=r"line 1: .*missing column\(s\) aliases"):
        parse_units_csv("code,name,kind,parent_code\n110101,东城区,district,\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("01,住房,4,,住有所居,\n", r"line 2: level of 01 is '4'"),
        ("01,住房,1,,住有所居,\n0101,物业,2,09,,\n", r"line 3: parent_code 09 of 0101"),
        (
            "01,住房,1,,住有所居,\n010101,物业收费,3,01,,\n",
            r"line 3: parent 01 of level-3 category 010101 is level 1",
        ),
        ("01,住房,1,,住有所居,\n01,住房,1,,住有所居,\n", r"line 3: duplicate code 01"),
        ("01,住房,1,,住得好,\n", r"line 2: unknown livelihood_dimension '住得好'"),
        ("01,住房,1,,,\n", r"line 2: level-1 category 01 needs a livelihood_dimension"),
        ("01,住房,1,,住有所居,asap\n", r"line 2: urgency of 01 is 'asap'"),
        ("01,住房,1,,住有所居,\n0201,物业,2,01,,\n", r"line 3: code 0201 must extend"),
    ],
)
def test_category_parse_errors(body: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_categories_csv(CATS_HEADER + body)


def test_child_category_inherits_dimension_even_listed_first() -> None:
    rows = parse_categories_csv(CATS_HEADER + "0101,物业,2,01,,\n01,住房,1,,住有所居,\n")
    assert [(r.code, r.livelihood_dimension) for r in rows] == [
        ("0101", "住有所居"),
        ("01", "住有所居"),
    ]
