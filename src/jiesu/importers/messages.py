"""`jiesu import messages`: a message-board export (留言板, 领导留言) into cases.

The columns are named on the command line because every board exports its own. A label is a
level-1 category NAME: matched to our taxonomy by name, then through the shipped alias table
data/message_labels.csv (e.g. 教育文体 → 09 教育); anything else goes to the catch-all
category and is counted. A row with a reply (答复意见) becomes a replied case, its reply time
the reply's; a row without one is registered.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.clock import Clock
from jiesu.importers.common import (
    CATCH_ALL_CATEGORY,
    BadRow,
    BatchWriter,
    Draft,
    ImportReport,
    RowError,
    collector_paused,
    ensure_catch_all,
    ensure_unit,
    lifecycle,
    read_rows,
    row_hash,
)
from jiesu.units.models import Category, Unit
from jiesu.uow import UnitOfWork

DEFAULT_UNIT = "IMPORT-MSG"
DEFAULT_UNIT_NAME = "留言板导入（承办单位未知）"
_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",  # date only: local midnight
    "%Y-%m-%d",
)
MAX_TEXT = 10000


@dataclass
class MessageColumns:
    text: list[str]
    time: str
    label: str | None = None
    id: str | None = None
    reply: str | None = None
    reply_time: str | None = None

    def required(self) -> tuple[str, ...]:
        named = [*self.text, self.time, self.label, self.id, self.reply, self.reply_time]
        return tuple(c for c in named if c)


def parse_local_time(value: str, column: str, tz: ZoneInfo) -> datetime:
    """'2019/2/28 11:25:05' (or ISO 8601) in the board's zone → aware UTC."""
    raw = value.strip()
    if not raw:
        raise RowError(f"{column} is empty")
    for fmt in _FORMATS:
        try:
            local = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=tz).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise RowError(f"{column}: '{raw[:40]}' is not a date and time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def label_map(session: Session) -> dict[str, str]:
    """Level-1 category names, then the shipped aliases (a centre's own names win)."""
    text = (files("jiesu.importers") / "data" / "message_labels.csv").read_text("utf-8")
    mapping = {r["label"].strip(): r["category"].strip() for r in csv.DictReader(text.splitlines())}
    for code, name in session.execute(
        select(Category.code, Category.name).where(Category.level == 1, Category.active)
    ):
        mapping[name] = code
    return mapping


@collector_paused()
def import_messages(
    uow: UnitOfWork,
    clock: Clock,
    path: Path,
    columns: MessageColumns,
    *,
    tz: ZoneInfo,
    source: str = "messages",
    encoding: str = "utf-8-sig",
    unit: str | None = None,
    request_type: str = "complaint",
    channel: str = "web",
) -> ImportReport:
    report = ImportReport(source)
    session = uow.session
    if unit is not None:
        known = session.get(Unit, unit)
        if known is None or not known.active:
            raise RowError(f"--unit: unknown unit code '{unit}'")
    labels = label_map(session) if columns.label else {}
    if columns.label:
        ensure_catch_all(session)
    writer = BatchWriter(uow, source, clock.now(), report)
    lead: str | None = unit
    for line, row in read_rows(path, encoding, columns.required()):
        report.read += 1
        try:
            text = "\n".join(row[c].strip() for c in columns.text if row[c].strip())
            if not text:
                raise RowError(f"{' / '.join(columns.text)}: no text")
            created = parse_local_time(row[columns.time], columns.time, tz)
            reply = row[columns.reply].strip() if columns.reply else ""
            replied = None
            if reply and columns.reply_time:
                replied = parse_local_time(row[columns.reply_time], columns.reply_time, tz)
                if replied < created:
                    raise RowError(f"{columns.reply_time} is before {columns.time}")
            category = None
            if columns.label:
                name = row[columns.label].strip()
                category = labels.get(name)
                if category is None:
                    report.unmapped[name or "(empty)"] += 1
                    category = CATCH_ALL_CATEGORY
            external = row[columns.id].strip() if columns.id else row_hash(row)
            if not external or len(external) > 80:
                raise RowError(f"{columns.id}: empty or longer than 80 characters")
        except RowError as exc:
            report.bad.append(BadRow(line, str(exc)))
            continue
        status = "replied" if reply else "registered"
        if reply and lead is None:
            lead = DEFAULT_UNIT
            if ensure_unit(session, DEFAULT_UNIT, DEFAULT_UNIT_NAME, "department"):
                report.units_created.append(DEFAULT_UNIT)
        case_unit = lead if reply else None
        steps = lifecycle(status, created, case_unit, replied=replied, reply_text=reply)
        case = {
            "text": text[:MAX_TEXT],
            "request_type": request_type,
            "category": category,
            "channel": channel,
            "reply_text": reply,
            "dispatched_at": created if reply else None,
            "acknowledged_at": created if reply else None,
            "replied_at": steps[-1].at if reply else None,
        }
        writer.add(Draft(line, external, case, steps, case_unit))
    writer.flush()
    return report
