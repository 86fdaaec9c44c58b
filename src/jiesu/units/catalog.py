"""Reference data for units, the category taxonomy and the default dispatch table (派单目录).

Pure: reads CSV text only, imports no framework, so a centre's own files can be checked before
anything is written to the database. The packaged defaults model Beijing: 16 districts, 343
streets/townships (codes per GB/T 10114 as published by the city's statistics bureau), city
departments and public-service enterprises, and a three-level taxonomy after the categories
Beijing's 12345 publishes in its monthly reports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

UNIT_KINDS = frozenset({"district", "street", "community", "department", "enterprise"})

# 七有五性: Beijing's livelihood dimensions (北京市“七有”“五性”监测评价指标体系), in the order
# the city reports them: the seven 有 first, then the five 性.
LIVELIHOOD_ORDER = (
    "幼有所育",
    "学有所教",
    "劳有所得",
    "病有所医",
    "老有所养",
    "住有所居",
    "弱有所扶",
    "便利性",
    "宜居性",
    "多样性",
    "公正性",
    "安全性",
)
LIVELIHOOD_DIMENSIONS = frozenset(LIVELIHOOD_ORDER)

# A category's own urgency hint; empty means normal. `complex` is judged per case, never by
# category (DB11/T 2021 gives it the 15-working-day limit).
CATEGORY_URGENCIES = frozenset({"urgent", "prompt"})

# Placeholders a routing rule may name instead of a unit code: the street/township or the
# district of the case's place (属地管理).
ROUTING_PLACEHOLDERS = frozenset({"@street", "@district"})

# A unit's parent must be of this kind; None = no parent allowed. Departments and enterprises
# may hang under a district (区级委办局) or stand alone (市级).
_PARENT_KINDS: dict[str, frozenset[str] | None] = {
    "district": None,
    "street": frozenset({"district"}),
    "community": frozenset({"street"}),
    "department": frozenset({"district"}),
    "enterprise": frozenset({"district"}),
}


class CatalogError(ValueError):
    """A reference CSV that cannot be loaded; the message names the line and what to fix."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    parent_code: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    level: int
    parent_code: str | None
    livelihood_dimension: str
    urgency: str | None


@dataclass(frozen=True)
class RoutingRuleRow:
    category_prefix: str
    target: str
    co_targets: tuple[str, ...]
    note: str


def _records(text: str, required: Sequence[str], what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, stripped cells) for each non-blank data line."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise CatalogError(
            f"{what} file is missing column(s) {', '.join(missing)}; "
            f"the header must be {','.join(required)}",
            line=1,
        )
    reader.fieldnames = header
    for raw in reader:
        if raw.get(None):
            raise CatalogError(
                f"more cells than the {len(header)} columns of the header", reader.line_num
            )
        cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue
        yield reader.line_num, cells


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


def parse_units_csv(text: str) -> list[UnitRow]:
    """Columns code,name,kind,parent_code,aliases; aliases separated by `|`."""
    rows: list[UnitRow] = []
    lines: dict[str, int] = {}
    for line, cells in _records(text, ("code", "name", "kind", "parent_code", "aliases"), "units"):
        code, name, kind = cells["code"], cells["name"], cells["kind"]
        if not code:
            raise CatalogError("code is empty", line)
        if not name:
            raise CatalogError(f"unit {code} has no name", line)
        if code in lines:
            raise CatalogError(f"duplicate code {code} (first on line {lines[code]})", line)
        if kind not in UNIT_KINDS:
            raise CatalogError(
                f"unknown kind {kind!r} for unit {code}; "
                f"use one of {', '.join(sorted(UNIT_KINDS))}",
                line,
            )
        lines[code] = line
        parent = cells["parent_code"] or None
        rows.append(UnitRow(code, name, kind, parent, _split_list(cells["aliases"])))

    by_code = {r.code: r for r in rows}
    for row in rows:
        line = lines[row.code]
        allowed = _PARENT_KINDS[row.kind]
        if row.parent_code is None:
            if row.kind in ("street", "community"):
                raise CatalogError(f"{row.kind} {row.code} needs a parent_code", line)
            continue
        if allowed is None:
            raise CatalogError(f"a {row.kind} has no parent; clear parent_code of {row.code}", line)
        parent_row = by_code.get(row.parent_code)
        if parent_row is None:
            raise CatalogError(
                f"parent_code {row.parent_code} of {row.code} is not in the file", line
            )
        if parent_row.kind not in allowed:
            raise CatalogError(
                f"parent {parent_row.code} of {row.kind} {row.code} is a {parent_row.kind}; "
                f"it must be a {' or '.join(sorted(allowed))}",
                line,
            )
    return rows


def parse_categories_csv(text: str) -> list[CategoryRow]:
    """Columns code,name,level,parent_code,livelihood_dimension,urgency.

    A child's code must start with its parent's code: routing rules and time-limit policies
    match categories by code prefix. An empty livelihood_dimension below level 1 inherits the
    parent's.
    """
    columns = ("code", "name", "level", "parent_code", "livelihood_dimension", "urgency")
    raw: list[tuple[int, dict[str, str], int]] = []
    lines: dict[str, int] = {}
    for line, cells in _records(text, columns, "categories"):
        code = cells["code"]
        if not code:
            raise CatalogError("code is empty", line)
        if not cells["name"]:
            raise CatalogError(f"category {code} has no name", line)
        if code in lines:
            raise CatalogError(f"duplicate code {code} (first on line {lines[code]})", line)
        if cells["level"] not in ("1", "2", "3"):
            raise CatalogError(f"level of {code} is {cells['level']!r}; use 1, 2 or 3", line)
        dim = cells["livelihood_dimension"]
        if dim and dim not in LIVELIHOOD_DIMENSIONS:
            raise CatalogError(
                f"unknown livelihood_dimension {dim!r} for {code}; "
                f"use one of {' '.join(sorted(LIVELIHOOD_DIMENSIONS))}",
                line,
            )
        urgency = cells["urgency"]
        if urgency and urgency not in CATEGORY_URGENCIES:
            raise CatalogError(
                f"urgency of {code} is {urgency!r}; use urgent, prompt, or leave empty for normal",
                line,
            )
        lines[code] = line
        raw.append((line, cells, int(cells["level"])))

    levels = {cells["code"]: level for _, cells, level in raw}
    dims: dict[str, str] = {}
    result: dict[str, CategoryRow] = {}
    # Parents are resolved first so a child may inherit the parent's dimension whatever the order.
    for line, cells, level in sorted(raw, key=lambda r: r[2]):
        code, parent = cells["code"], cells["parent_code"] or None
        if level == 1 and parent is not None:
            raise CatalogError(f"level-1 category {code} must have an empty parent_code", line)
        if level > 1:
            if parent is None:
                raise CatalogError(f"level-{level} category {code} needs a parent_code", line)
            if parent not in levels:
                raise CatalogError(f"parent_code {parent} of {code} is not in the file", line)
            if levels[parent] != level - 1:
                raise CatalogError(
                    f"parent {parent} of level-{level} category {code} is level "
                    f"{levels[parent]}; it must be level {level - 1}",
                    line,
                )
            if not code.startswith(parent) or code == parent:
                raise CatalogError(
                    f"code {code} must extend its parent's code {parent} (e.g. {parent}01)", line
                )
        dim = cells["livelihood_dimension"] or (dims.get(parent, "") if parent else "")
        if not dim:
            raise CatalogError(f"level-1 category {code} needs a livelihood_dimension", line)
        dims[code] = dim
        result[code] = CategoryRow(
            code, cells["name"], level, parent, dim, cells["urgency"] or None
        )
    return [result[cells["code"]] for _, cells, _ in raw]


def parse_routing_rules_csv(
    text: str, unit_codes: frozenset[str] | set[str] | None = None
) -> list[RoutingRuleRow]:
    """Columns category_prefix,target,co_targets,note; an empty prefix is the catch-all.

    With `unit_codes`, every target and co-target must be a known unit or a placeholder.
    """
    rows: list[RoutingRuleRow] = []
    lines: dict[str, int] = {}
    columns = ("category_prefix", "target", "co_targets", "note")
    for line, cells in _records(text, columns, "routing rules"):
        prefix, target = cells["category_prefix"], cells["target"]
        if prefix in lines:
            raise CatalogError(
                f"duplicate category_prefix {prefix!r} (first on line {lines[prefix]})", line
            )
        if not target:
            raise CatalogError(f"rule for prefix {prefix!r} has no target", line)
        co = _split_list(cells["co_targets"])
        if unit_codes is not None:
            for code in (target, *co):
                if code not in unit_codes and code not in ROUTING_PLACEHOLDERS:
                    raise CatalogError(
                        f"unknown unit {code!r}; use a unit code or @street / @district", line
                    )
        lines[prefix] = line
        rows.append(RoutingRuleRow(prefix, target, co, cells["note"]))
    return rows


def _package_text(name: str) -> str:
    return resources.files("jiesu").joinpath("data", name).read_text(encoding="utf-8")


def load_units() -> list[UnitRow]:
    return parse_units_csv(_package_text("units.csv"))


def load_categories() -> list[CategoryRow]:
    return parse_categories_csv(_package_text("categories.csv"))


def load_routing_rules() -> list[RoutingRuleRow]:
    units = frozenset(u.code for u in load_units())
    return parse_routing_rules_csv(_package_text("routing_rules.csv"), units)
