"""Text contrast in the browser: WCAG 2.x ratios computed by contrast.js on the live page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("contrast.js").read_text(encoding="utf-8")


def measure(page: Any) -> tuple[int, list[dict[str, Any]]]:
    """(pieces of text measured, those below the minimum)."""
    found: dict[str, Any] = page.evaluate(SCRIPT)
    return int(found["checked"]), list(found["failures"])


def failures(page: Any) -> list[dict[str, Any]]:
    return measure(page)[1]


def assert_contrast(page: Any, where: str) -> None:
    checked, bad = measure(page)
    assert checked >= 5, f"{where}: only {checked} pieces of text measured; is the page there?"
    lines = [
        f"  {f['ratio']}:1 < {f['needed']}:1  {f['selector']}  {f['fg']} on {f['bg']}"
        f"  «{f['text']}»"
        for f in bad
    ]
    assert not bad, f"{where}: text below the WCAG contrast minimum\n" + "\n".join(lines)
