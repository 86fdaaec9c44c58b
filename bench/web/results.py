"""Each web bench owns one section of RESULTS.md, so running one keeps the other's table."""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).with_name("RESULTS.md")


def write_section(name: str, lines: list[str]) -> None:
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    block = "\n".join([begin, *lines, end])
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    OUT.write_text(text, encoding="utf-8")
