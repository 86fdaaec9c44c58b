"""Cells for every spreadsheet and CSV jiesu writes, so that no citizen's text becomes a formula.

A case text is whatever a caller said; one that starts with "=", "+", "-" or "@" (or a tab or
carriage return and then one) is a live formula to Excel, LibreOffice and WPS (CSV injection,
OWASP). In xlsx the cell is written with the string type, so it shows exactly the text; in CSV
there is no type, so such a cell gets a leading apostrophe, which spreadsheets hide and read as
"this is text". Every export goes through `xlsx_append` or `csv_cell`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@")


def _looks_like_formula(value: str) -> bool:
    return value.lstrip(" \t\r\n").startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and _looks_like_formula(value):
        return "'" + value
    return value


def csv_row(row: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in row]


def csv_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: csv_cell(v) for k, v in row.items()}


def xlsx_append(ws: Any, row: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet (write-only or not); text cells are typed as text."""
    cells: list[Any] = []
    for value in row:
        if isinstance(value, str):
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    ws.append(cells)
