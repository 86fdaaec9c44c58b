"""The base of every JSON body the API reads: a NUL character is refused by name.

PostgreSQL's text cannot hold U+0000 (SQLite's can), so a NUL in any field reached the database
as an error and answered 500 on one of them and 201 on the other; now it is a 422 that names
the field, on both."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class Input(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("NUL characters (U+0000) are not allowed")
        return value


def digits(value: str) -> str | None:
    """The ASCII digits of a number written in any script's decimal digits, or None.

    The one place a number typed by a person or a client is read. `str.isdigit()` also accepts
    superscripts and circled digits (`²`, `①`), which `int()` then refuses: that answered 500.
    Decimal digits of any script (`１５０２`, `١٥٠١`) mean the same number as ASCII ones, so a
    limit keyed on the number cannot be side-stepped by writing it another way. Leading zeros
    are kept here (a phone's tail is digits, not a number); `whole_number` drops them."""
    value = value.strip()
    if not value or not value.isdecimal():
        return None
    return "".join(str(unicodedata.decimal(ch)) for ch in value)


def whole_number(value: str | None, *, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """`value` as an int within [low, high] (default: what an INTEGER column holds), or None
    when it is not a whole number there. The caller turns None into its own 4xx."""
    if value is None:
        return None
    ascii_digits = digits(value)
    # More digits than any bound we use would only feed int() a huge string.
    if ascii_digits is None or len(ascii_digits.lstrip("0")) > 19:
        return None
    number = int(ascii_digits)
    return number if low <= number <= high else None
