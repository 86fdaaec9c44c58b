from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TEDDY = REPO.parent / "shared" / "data" / "teddycup2020_c"
DATA = REPO / "tests" / "data" / "triage"


def teddy_rows(name: str) -> list[dict[str, str]]:
    if not TEDDY.is_dir():
        pytest.skip(f"{TEDDY} is absent")
    csv.field_size_limit(sys.maxsize)
    with (TEDDY / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
