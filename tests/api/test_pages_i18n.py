"""No untranslated string in the UI: every message id in the code and templates has zh_CN."""

from __future__ import annotations

from pathlib import Path
from string import Formatter

from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from jiesu.reasons import MESSAGES
from jiesu.web import i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "jiesu"
WEB = SRC / "web"


def test_every_message_has_a_chinese_translation() -> None:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"trim_blocks": "True", "lstrip_blocks": "True"}}
    keywords = {"_": None, "N_": None, "gettext": (2,)}
    found = list(
        extract_from_dir(str(WEB), method_map, options, keywords=keywords, strip_comment_tags=True)
    )
    found += [
        (0, msg, [], None)  # the reasons' catalogue lives outside web/ (services raise them)
        for _, msg, _, _ in extract_from_file("python", SRC / "reasons.py", keywords=keywords)
    ]
    ids = {msg if isinstance(msg, str) else msg[0] for *_, msg, _, _ in found}
    with (WEB / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    missing = sorted(i for i in ids if i and not (catalog.get(i) and catalog.get(i).string))
    assert len(ids) > 200
    assert missing == []
    # English shows the ids themselves, but every id must be in its catalog too, so a
    # translator working from the English file sees every string.
    with (WEB / "locale" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        english = read_po(f)
    assert sorted(i for i in ids if i and english.get(i) is None) == []


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def test_every_reason_reads_in_chinese_with_its_own_parameters() -> None:
    """A Chinese reader meets no English reason, and no translation asks for a parameter the
    raising site does not give (that would turn a refusal into a 500)."""
    untranslated = []
    for message_id, template in MESSAGES.items():
        chinese = i18n.gettext("zh_CN", template)
        if chinese == template or not any("\u4e00" <= c <= "\u9fff" for c in chinese):
            untranslated.append(message_id)
        assert _names(chinese) <= _names(template), message_id
    assert untranslated == []
    assert len(MESSAGES) > 30
