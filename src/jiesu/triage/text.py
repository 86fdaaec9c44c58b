"""Unicode normalisation shared by the parts of a proposal.

The classifier, the place finder and the duplicate finder each fold a text with NFKC (full-width
forms to ASCII and the like) before their own cleaning; for a Chinese message that is the
costliest step of their cleaning, and a proposal asked for it three times on the same text."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=256)
def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
