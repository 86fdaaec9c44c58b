from __future__ import annotations

import csv
import sys
from pathlib import Path

from tests.shared_data import shared_data

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "triage"


def teddy_rows(name: str) -> list[dict[str, str]]:
    path = shared_data("teddycup2020_c", name)
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
