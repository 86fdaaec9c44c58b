"""Writing governance results as JSON, a terminal table, CSV or XLSX (one sheet)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jiesu.sheets import csv_row, xlsx_append

FORMATS = ("json", "table", "csv", "xlsx")


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def flat_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[list[Any]]:
    return [[_cell(row.get(c)) for c in columns] for row in rows]


def render(
    body: dict[str, Any], rows_key: str, columns: Sequence[str], fmt: str, out: Path | None
) -> str | None:
    """Write `body` in `fmt`; returns the text for json/table/csv when `out` is None."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    rows = body[rows_key]
    if fmt == "xlsx":
        if out is None:
            raise ValueError("--format xlsx needs --out FILE.xlsx")
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = rows_key
        xlsx_append(ws, columns)
        for row in flat_rows(rows, columns):
            xlsx_append(ws, row)
        wb.save(out)
        return None
    if fmt == "json":
        text = json.dumps(body, ensure_ascii=False, indent=2, default=str)
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(csv_row(columns))
        writer.writerows(csv_row(r) for r in flat_rows(rows, columns))
        text = buf.getvalue()
    else:
        lines = ["\t".join(columns)]
        lines += ["\t".join(str(c)[:60] for c in row) for row in flat_rows(rows, columns)]
        text = "\n".join(lines)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        return None
    return text
