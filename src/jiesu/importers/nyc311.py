"""`jiesu import nyc311`: the NYC Open Data 311 schema (dataset erm2-nwe9) into cases.

Mapping (docs/importers.md):
- Complaint Type / Descriptor → category, by the shipped table data/nyc311_categories.csv
  (descriptor-specific rows first); unmapped → catch-all category 99, counted.
- Created / Closed Date, "MM/DD/YYYY hh:mm:ss AM/PM" in America/New_York → aware UTC.
- Status: Closed → closed; Open, Assigned, In Progress, Pending, Started → dispatched (NYC routes
  every request to an agency at creation); anything else → registered.
- Agency → unit NYC-<AGENCY> (a department), created on the fly with the Agency Name.
- Resolution Description → reply text; Latitude / Longitude; Incident Address (or the
  intersection) with the borough → address; Open Data Channel Type → channel.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

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
)
from jiesu.uow import UnitOfWork

SOURCE = "nyc311"
NEW_YORK = ZoneInfo("America/New_York")
UNIT_PREFIX = "NYC-"
REQUIRED = ("Unique Key", "Created Date", "Closed Date", "Agency", "Complaint Type", "Status")
DISPATCHED = frozenset({"open", "assigned", "in progress", "pending", "started"})
CHANNELS = {"PHONE": "phone", "ONLINE": "web", "MOBILE": "app"}
_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([AP]M)$")


@dataclass(frozen=True)
class CategoryMap:
    exact: dict[tuple[str, str], str]

    @classmethod
    def shipped(cls) -> CategoryMap:
        text = (files("jiesu.importers") / "data" / "nyc311_categories.csv").read_text("utf-8")
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> CategoryMap:
        exact = {
            (r["complaint_type"].strip().lower(), r["descriptor"].strip().lower()): r[
                "category"
            ].strip()
            for r in csv.DictReader(text.splitlines())
        }
        return cls(exact)

    def lookup(self, complaint: str, descriptor: str) -> str | None:
        key = complaint.strip().lower()
        return self.exact.get((key, descriptor.strip().lower())) or self.exact.get((key, ""))


def parse_nyc_time(value: str, column: str) -> datetime:
    """'05/01/2022 12:00:03 AM' in New York time → aware UTC."""
    m = _DATE.match(value.strip())
    if m is None:
        raise RowError(f"{column}: '{value[:40]}' is not MM/DD/YYYY hh:mm:ss AM/PM")
    month, day, year, hour, minute, second, half = m.groups()
    h = int(hour) % 12 + (12 if half == "PM" else 0)
    try:
        local = datetime(int(year), int(month), int(day), h, int(minute), int(second))
    except ValueError as exc:
        raise RowError(f"{column}: '{value}' is not a real date ({exc})") from exc
    return local.replace(tzinfo=NEW_YORK).astimezone(UTC)


def _coord(value: str, column: str, limit: float) -> float | None:
    if not value.strip():
        return None
    try:
        x = float(value)
    except ValueError as exc:
        raise RowError(f"{column}: '{value[:40]}' is not a number") from exc
    if not -limit <= x <= limit:
        raise RowError(f"{column}: {x} is out of range")
    return x


def _address(row: dict[str, str]) -> str:
    street = row.get("Incident Address", "").strip()
    if not street:
        a, b = row.get("Intersection Street 1", "").strip(), row.get("Intersection Street 2", "")
        street = f"{a} & {b.strip()}" if a and b.strip() else a
    borough = row.get("Borough", "").strip()
    if borough and borough.lower() != "unspecified":
        street = f"{street}, {borough}" if street else borough
    return street[:500]


class Nyc311Rows:
    """Turns rows into drafts; remembers the agencies it needs as units."""

    def __init__(self, categories: CategoryMap, report: ImportReport) -> None:
        self.categories = categories
        self.report = report
        self.agencies: dict[str, str] = {}

    def draft(self, line: int, row: dict[str, str]) -> Draft:
        key = row["Unique Key"].strip()
        if not key:
            raise RowError("Unique Key is empty")
        if len(key) > 80:
            raise RowError("Unique Key is longer than 80 characters")
        complaint = row["Complaint Type"].strip()
        if not complaint:
            raise RowError("Complaint Type is empty")
        descriptor = row.get("Descriptor", "").strip()
        created = parse_nyc_time(row["Created Date"], "Created Date")
        closed_raw = row["Closed Date"].strip()
        closed = parse_nyc_time(closed_raw, "Closed Date") if closed_raw else None
        if closed is not None and closed < created:
            raise RowError(f"Closed Date {closed_raw} is before Created Date {row['Created Date']}")
        source_status = row["Status"].strip()
        status = (
            "closed"
            if source_status.lower() == "closed"
            else "dispatched"
            if source_status.lower() in DISPATCHED
            else "registered"
        )
        if status == "closed" and closed is None:
            raise RowError("Status is Closed but Closed Date is empty")
        agency = row["Agency"].strip().upper()
        unit = None
        if status != "registered":
            if not agency or not re.fullmatch(r"[A-Z0-9&/\-]{1,20}", agency):
                raise RowError(f"Agency '{agency[:40]}' is empty or not an agency code")
            unit = UNIT_PREFIX + agency.replace("/", "-")
            self.agencies.setdefault(unit, row.get("Agency Name", "").strip() or agency)
        category = self.categories.lookup(complaint, descriptor)
        if category is None:
            self.report.unmapped[complaint] += 1
            category = CATCH_ALL_CATEGORY
        lat = _coord(row.get("Latitude", ""), "Latitude", 90)
        lon = _coord(row.get("Longitude", ""), "Longitude", 180)
        resolution = row.get("Resolution Description", "").strip()
        text = f"{complaint}: {descriptor}" if descriptor else complaint
        location_type = row.get("Location Type", "").strip()
        if location_type:
            text += f" ({location_type})"
        steps = lifecycle(status, created, unit, reply_text=resolution, closed=closed)
        case = {
            "text": text,
            "category": category,
            "channel": CHANNELS.get(row.get("Open Data Channel Type", "").strip().upper(), "other"),
            "address": _address(row),
            "lat": lat,
            "lon": lon,
            "reply_text": resolution if status == "closed" else "",
            "dispatched_at": created if unit else None,
            "acknowledged_at": created if status == "closed" else None,
            "replied_at": closed,
            "closed_at": closed if status == "closed" else None,
        }
        return Draft(line, key, case, steps, unit)


@collector_paused()
def import_nyc311(
    uow: UnitOfWork, clock: Clock, path: Path, categories: CategoryMap | None = None
) -> ImportReport:
    report = ImportReport(SOURCE)
    rows = Nyc311Rows(categories or CategoryMap.shipped(), report)
    writer = BatchWriter(uow, SOURCE, clock.now(), report)
    ensure_catch_all(uow.session)
    ensured: set[str] = set()
    for line, row in read_rows(path, required=REQUIRED):
        report.read += 1
        try:
            draft = rows.draft(line, row)
        except RowError as exc:
            report.bad.append(BadRow(line, str(exc)))
            continue
        unit = draft.lead_unit
        if unit is not None and unit not in ensured:
            ensured.add(unit)
            if ensure_unit(uow.session, unit, f"NYC {rows.agencies[unit]}", "department"):
                report.units_created.append(unit)
        writer.add(draft)
    writer.flush()
    return report
