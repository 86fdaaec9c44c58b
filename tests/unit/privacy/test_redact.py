"""privacy.redact: what is personal data in a case text, and what only looks like it."""

from __future__ import annotations

import pytest

from jiesu.privacy.redact import (
    HIDDEN,
    public_address,
    public_coordinate,
    public_text,
    redact,
    redact_value,
)

# Every way the adversarial test of issue 16 wrote a phone, an ID number or an e-mail.
PERSONAL = [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "138 1234 5678"),
    ("139-8765-4321", "139-8765-4321"),
    ("(137)11112222", "11112222"),
    ("+86 138 1234 5678", "1234 5678"),
    ("１３８１２３４５６７８", "１３８１２３４５６７８"),  # full-width digits
    ("010 6512 3456", "6512 3456"),
    ("010-65123456", "65123456"),
    ("座机6512 3456", "6512 3456"),  # a local number said to be a phone
    ("11010519491231002X", "11010519491231002X"),  # GB 11643, X check digit
    ("110102198001011239", "198001011239"),
    ("wang@example.com", "wang@example.com"),
    ("wang at qq dot com", "qq dot com"),
    ("wang[at]163.com", "163.com"),
    ("wang＠qq．com", "qq．com"),
    ("wang (at) qq (dot) com", "qq (dot) com"),
    ("6222 0212 3456 7890 128", "7890 128"),  # a UnionPay card passing Luhn
    ("4111-1111-1111-1111", "1111-1111"),
]


@pytest.mark.parametrize(("written", "fragment"), PERSONAL)
def test_personal_data_is_hidden_wherever_it_sits_in_a_sentence(
    written: str, fragment: str
) -> None:
    text = f"小区路灯坏了，联系{written}，谢谢"
    out = redact(text)
    assert fragment not in out
    assert out.startswith("小区路灯坏了，联系") and out.endswith("，谢谢")
    assert HIDDEN in out


# Numbers that belong in a public case text and must stay readable.
NOT_PERSONAL = [
    "案件编号2026120700123已转办",  # a 13-digit case number
    "工单20261207001",
    "2026-12-07 上午十点停水",  # a date
    "2026年12月7日",
    "价格1380元，押金25000元",  # prices
    "3号楼门口，5栋和2门之间",  # buildings (units must find them)
    "邮编100020",  # a 6-digit postcode
    "类别170401和050403",  # category codes
    "室温只有14度，持续72小时",
    "公交86路和300路",
    "身份证号110102198001011238写错了一位",  # fails the GB 11643 check digit
    "账号6222021234567890124",  # fails Luhn
    "meet at 3pm near the gate",
    "12月3号下午",
]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_numbers_that_are_not_personal_data_stay(text: str) -> None:
    assert redact(text) == text


def test_the_citizens_own_name_and_number_from_the_case_fields() -> None:
    text = "我是王芳，上次王芳打过电话，号码见工单"
    assert (
        redact(text, ["王芳", "13812345678"]) == f"我是{HIDDEN}，上次{HIDDEN}打过电话，号码见工单"
    )
    # One character is no name: a surname alone would blank every 王 in the text.
    assert redact("王府井大街", ["王"]) == "王府井大街"


def test_two_detectors_on_one_number_hide_it_once() -> None:
    assert redact("电话138 1234 5678") == f"电话{HIDDEN}"


def test_event_payloads_are_redacted_through_and_through() -> None:
    payload = {"note": "已联系13812345678", "tries": 2, "who": ["王芳", {"tel": "010-65123456"}]}
    assert redact_value(payload, ["王芳"]) == {
        "note": f"已联系{HIDDEN}",
        "tries": 2,
        "who": [HIDDEN, {"tel": HIDDEN}],
    }


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("北京市朝阳区幸福小区3号楼2单元501室", "北京市朝阳区幸福小区"),
        ("朝阳路12号院5栋", "朝阳路12号院"),
        ("东直门外大街2门", "东直门外大街"),
        ("望京西园4-2-301", "望京西园"),
        ("东城区东直门南大街5号", "东城区东直门南大街5号"),  # the street number stays
        ("幸福小区 A座 1203", "幸福小区"),
        ("", ""),
    ],
)
def test_the_public_address_stops_at_the_road_or_compound(address: str, public: str) -> None:
    assert public_address(address) == public


def test_the_public_text_drops_building_unit_and_room_too() -> None:
    text = "住在幸福小区3号楼2单元501室，楼道灯坏了，2026-12-07报过"
    assert public_text(text) == f"住在幸福小区{HIDDEN}，楼道灯坏了，2026-12-07报过"


def test_public_coordinates_are_rounded_to_about_100_m() -> None:
    assert public_coordinate(39.916345) == 39.916
    assert public_coordinate(None) is None
