"""No untranslated string in the UI: every message id in the code and templates has zh_CN."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "src" / "jiesu" / "web"


def test_every_message_has_a_chinese_translation() -> None:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"trim_blocks": "True", "lstrip_blocks": "True"}}
    keywords = {"_": None, "N_": None, "gettext": (2,)}
    ids = {
        msg if isinstance(msg, str) else msg[0]
        for _, _, msg, _, _ in extract_from_dir(
            str(WEB), method_map, options, keywords=keywords, strip_comment_tags=True
        )
    }
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
