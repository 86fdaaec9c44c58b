from jiesu.inputs import digits, whole_number


def test_decimal_digits_of_any_script_read_as_ascii() -> None:
    # Full-width and Arabic-Indic digits are the same number as ASCII ones.
    assert digits("１５０２") == "1502"
    assert digits("١٥٠١") == "1501"
    assert digits(" 0150 ") == "0150"
    assert whole_number("01502") == 1502


def test_superscripts_and_other_non_decimals_are_not_numbers() -> None:
    # `²`.isdigit() is True and int("²") raises: such values answered 500.
    for value in ("²", "①", "1²", "", "12a", "-1", "1.5", "٫"):
        assert whole_number(value) is None, value
    assert digits("²") is None


def test_bounds() -> None:
    assert whole_number(str(2**31 - 1)) == 2**31 - 1
    assert whole_number(str(2**31)) is None
    assert whole_number("0", low=1) is None
    assert whole_number("9" * 400) is None
    assert whole_number(None) is None
