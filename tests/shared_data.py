"""Data sets kept beside the repository (``../shared/data``), too large or not ours to commit.

A clone without them skips the tests that read them, saying which file is missing; under CI
(the ``CI`` environment variable set) a missing file fails the test instead, so a runner that
lost the data cannot pass by skipping. ``JIESU_SHARED_DATA`` points at another folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    override = os.environ.get("JIESU_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """The path of a shared data file or folder; skips (or fails under CI) when it is absent."""
    path = shared_root().joinpath(*parts)
    if not path.exists():
        why = f"shared data {path} is absent (set JIESU_SHARED_DATA to the folder that holds it)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI is set, so this is an error, not a skip", pytrace=False)
        pytest.skip(why)
    return path
