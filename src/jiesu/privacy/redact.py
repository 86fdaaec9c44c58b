"""Personal data out of case text before anyone outside the call centre reads it (DESIGN §9).

One function, `redact`, for every outward surface: the Open311 feed, the pages and API reads of
roles that see masked data (units, leaders, analysts), exports and governance samples. It
removes phone numbers (CN mobile and landline, found by the `phonenumbers` library after NFKC,
so full-width digits and "(137)", "010 6512 3456" forms count), resident ID numbers (GB 11643
check digit), e-mail addresses including the spelled-out "at"/"dot" forms, bank card numbers
(Luhn) and the citizen's own name. Texts are redacted on read, never on the registration path.

Cost: most texts hold no run of seven digits, no "@" and no word "at"; one regex search sends
those back untouched (bench/privacy/bench_redact.py measures both paths).

`public_address` and `public_text` go one step further for the public feed: the building, unit
and room ("3号楼2单元501室", "5栋", "2门") are dropped; a unit still needs them to find the place,
so `redact` keeps them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import phonenumbers

HIDDEN = "[已隐藏]"

# Anything that could be one of ours: seven digits with separators between them, an at sign,
# or the word "at" (full-width digits are \d to Python's re, so they pass this filter too).
_CANDIDATE = re.compile(r"\d(?:[\s\-()（）.．]{0,2}\d){6,}|[@＠]|(?<![A-Za-z])at(?![A-Za-z])", re.I)
# GB 11643-1999: 17 digits and a check character; 15-digit numbers were issued before 1999.
_ID = re.compile(r"(?<!\d)\d{6}\s?\d{8}\s?\d{3}[\dXx](?![\dXx])|(?<!\d)\d{15}(?!\d)")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Bank cards: 16-19 digits, grouped by spaces or dashes, starting 3-6 (UnionPay 62, Visa 4,
# Mastercard 5, Amex/JCB 3) and passing Luhn; case numbers and counts rarely do all three.
_CARD = re.compile(r"(?<!\d)[3-6](?:[ -]?\d){15,18}(?!\d)")
_AT = r"(?:\s*@\s*|\s*[\[(（]\s*at\s*[\])）]\s*|\s+at\s+)"
_DOT = r"(?:\s*\.\s*|\s*[\[(（]\s*dot\s*[\])）]\s*|\s+dot\s+)"
_EMAIL = re.compile(
    rf"[A-Za-z0-9._%+-]+{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z]{{2,}}[A-Za-z0-9-]*)+", re.I
)
# A local number without its area code is no phone to `phonenumbers`; one that follows a word
# saying it is a phone number is one all the same ("座机6512 3456").
_LOCAL = re.compile(
    r"(?:电话|座机|手机|号码|致电|联系|tel)\D{0,4}?(\d{3,4}[\s-]?\d{4})(?![\s-]?\d)", re.I
)

# Building, unit, floor and room: a number (Arabic, Chinese or a letter) and its word. A bare
# "号" is the street number and stays (road/compound level); "号楼"/"号院" are checked first.
_NUM = r"[0-9一二三四五六七八九十百零〇甲乙丙丁A-Za-z]+"
_DWELLING = re.compile(
    rf"(?:{_NUM}\s*(?:号楼|栋|幢|座|单元|门(?![诊口外内头])|层|楼(?![道房梯下上顶盘])|室|户)"
    rf"|(?<![\d-])\d{{1,3}}-\d{{1,2}}-\d{{1,4}}(?!\d)(?:室|号)?)+"
)
_TRAILING = re.compile(r"[\s,，、;；:：\-]+$")


def _normalised(text: str) -> str:
    """NFKC character by character, so positions in the result are positions in `text`."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def _id_valid(digits: str) -> bool:
    if len(digits) == 15:
        return True
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17].upper()


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _spans(norm: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _ID.finditer(norm):
        digits = re.sub(r"\s", "", m.group())
        if len(digits) == 18 and _id_valid(digits):
            spans.append(m.span())
    for m in _CARD.finditer(norm):
        if _luhn(re.sub(r"[ -]", "", m.group())):
            spans.append(m.span())
    for found in phonenumbers.PhoneNumberMatcher(norm, "CN", leniency=phonenumbers.Leniency.VALID):
        spans.append((found.start, found.end))
    for m in _LOCAL.finditer(norm):
        spans.append(m.span(1))
    for m in _EMAIL.finditer(norm):
        spans.append(m.span())
    return spans


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:  # overlaps the span just hidden (two detectors found the same number)
            at = max(at, end)
            continue
        out.append(text[at:start])
        out.append(HIDDEN)
        at = end
    out.append(text[at:])
    return "".join(out)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` without phone numbers, ID numbers, e-mail addresses, bank cards, or any of the
    `known` strings (the citizen's name, phone and e-mail from the case's own fields)."""
    if not text:
        return text
    for secret in known:
        # One character is no name: "王" would blank every 王 in the text.
        if secret and len(secret) >= 2 and secret in text:
            text = text.replace(secret, HIDDEN)
    if not _CANDIDATE.search(text):
        return text
    spans = _spans(_normalised(text))
    return _cut(text, spans) if spans else text


def redact_value(value: Any, known: Iterable[str] = ()) -> Any:
    """Every string inside a JSON-like value (an event's payload), redacted."""
    known = tuple(known)
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, dict):
        return {k: redact_value(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, known) for v in value]
    return value


def public_address(address: str | None) -> str:
    """Road or compound level: everything from the first building/unit/room mark on is gone."""
    if not address:
        return ""
    text = redact(address)
    m = _DWELLING.search(text)
    if m is not None:
        text = _TRAILING.sub("", text[: m.start()])
    return text


def public_text(text: str, known: Iterable[str] = ()) -> str:
    """What the public may read of a case's text: `redact`, and no building, unit or room."""
    return _DWELLING.sub(HIDDEN, redact(text, known))


def public_coordinate(value: float | None) -> float | None:
    """Three decimals: about 110 m of latitude, enough to show a street, not a doorway."""
    return None if value is None else round(value, 3)
