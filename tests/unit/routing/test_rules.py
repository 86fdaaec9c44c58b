"""Routing-rule evaluation (派单目录): which unit a dispatcher is offered, and the sentence that
says why, stored on the dispatch event."""

from __future__ import annotations

from jiesu.routing.rules import DISTRICT, STREET, Rule, route

DONGCHENG = "110101"
DONGHUAMEN = "110101001"  # a street office of 东城区
XICHENG = "110102"

# A small catalogue shaped like src/jiesu/data/routing_rules.csv.
RULES = (
    Rule(1, "", "", DISTRICT, ()),  # 兜底: the district government answers what no one else does
    Rule(2, "01", "", STREET, ()),  # 住房: the street office of the place
    Rule(3, "0104", "", DISTRICT, ()),  # 房地产开发与交易: the district housing commission
    Rule(4, "0108", "", "D034", ()),  # 住房公积金: a city-level centre, wherever the caller lives
    Rule(5, "010301", "", STREET, ("D004",)),  # 电梯困人: the street first, market regulation helps
    Rule(6, "0104", XICHENG, "D040", ()),  # a district that handed housing trade to its own office
    Rule(7, "0702", "", STREET, (STREET, "D017")),  # 消防隐患: the street, fire brigade helps
)


def test_the_longest_category_prefix_wins() -> None:
    # 房地产开发与交易 (0104…) is more specific than housing (01…): the district commission,
    # not the street office, is offered.
    d = route(RULES, "010402", DONGCHENG, DONGHUAMEN)
    assert d is not None and d.lead_unit == DONGCHENG and d.rule_id == 3
    assert d.explanation == "rule 3: category '0104', area '*' → @district"


def test_a_rule_for_the_area_beats_the_city_wide_rule_with_the_same_prefix() -> None:
    # Same category prefix: the rule naming the case's district is narrower, so it wins there…
    d = route(RULES, "010402", XICHENG, None)
    assert d is not None and d.lead_unit == "D040"
    assert d.explanation == f"rule 6: category '0104', area '{XICHENG}' → D040"
    # …and only there: in 东城区 the city-wide rule still applies.
    other = route(RULES, "010402", DONGCHENG, None)
    assert other is not None and other.rule_id == 3


def test_street_target_goes_to_the_street_of_the_case() -> None:
    d = route(RULES, "0101", DONGCHENG, DONGHUAMEN)
    assert d is not None and d.lead_unit == DONGHUAMEN and d.co_units == ()
    assert d.explanation == "rule 2: category '01', area '*' → @street"


def test_no_street_known_sends_a_street_rule_to_the_district() -> None:
    # 兜底: with no street on the case, the district government is responsible.
    d = route(RULES, "0101", DONGCHENG, None)
    assert d is not None and d.lead_unit == DONGCHENG and d.rule_id == 2


def test_a_named_unit_is_offered_whatever_the_place() -> None:
    d = route(RULES, "010801", None, None)
    assert d is not None and d.lead_unit == "D034"
    assert d.explanation == "rule 4: category '0108', area '*' → D034"


def test_co_units_are_resolved_and_the_lead_is_not_repeated_among_them() -> None:
    lift = route(RULES, "010301", DONGCHENG, DONGHUAMEN)
    assert lift is not None and (lift.lead_unit, lift.co_units) == (DONGHUAMEN, ("D004",))
    # @street among the co-targets resolves to the lead itself and is dropped.
    fire = route(RULES, "070201", DONGCHENG, DONGHUAMEN)
    assert fire is not None and (fire.lead_unit, fire.co_units) == (DONGHUAMEN, ("D017",))


def test_a_rule_that_cannot_name_a_unit_gives_way_to_the_next() -> None:
    # 0104 → @district, but the case has no district: the housing rule (@street) is next.
    only_street = Rule(8, "", "", STREET, ())
    d = route((RULES[2], only_street), "010402", None, DONGHUAMEN)
    assert d is not None and d.lead_unit == DONGHUAMEN and d.rule_id == 8


def test_no_category_falls_to_the_catch_all_rule() -> None:
    d = route(RULES, None, DONGCHENG, DONGHUAMEN)
    assert d is not None and d.lead_unit == DONGCHENG
    assert d.explanation == "rule 1: category '*', area '*' → @district"


def test_nothing_matches_nothing_is_offered() -> None:
    # No catch-all and no place: the dispatcher chooses by hand.
    assert route(RULES[1:], "99", None, None) is None
    assert route(RULES, "0101", None, None) is None


def test_the_decision_stored_on_the_event_carries_the_explanation() -> None:
    d = route(RULES, "010301", DONGCHENG, DONGHUAMEN)
    assert d is not None
    assert d.to_dict() == {
        "lead_unit": DONGHUAMEN,
        "co_units": ["D004"],
        "rule_id": 5,
        "rule": "rule 5: category '010301', area '*' → @street",
    }
