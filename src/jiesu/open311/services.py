"""Services (GeoReport v2 `services`) are the taxonomy's level-3 categories; their questions
(`attributes`) are `service_attribute` rows matched by category prefix.

Only level-3 categories are offered: dispatch and time limits are decided on the most specific
category, and a client that offers a level-2 choice would leave the agent to re-classify.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.errors import InvalidInput, NotFound
from jiesu.open311.models import ServiceAttribute
from jiesu.units.models import Category

SERVICE_LEVEL = 3
MAX_STRING = 500
MAX_TEXT = 4000


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    variable: bool
    datatype_description: str
    description: str
    order: int
    values: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str
    group: str
    keywords: list[str]
    metadata: bool
    # Our own detail, behind `extensions`.
    path: list[str]
    urgency: str


def _categories(session: Session) -> dict[str, Category]:
    return {c.code: c for c in session.scalars(select(Category).where(Category.active.is_(True)))}


def _path(cats: dict[str, Category], cat: Category) -> list[Category]:
    chain = [cat]
    while chain[-1].parent_code and chain[-1].parent_code in cats and len(chain) < 10:
        chain.append(cats[chain[-1].parent_code])
    return list(reversed(chain))


def _attribute_rows(session: Session) -> list[ServiceAttribute]:
    return list(session.scalars(select(ServiceAttribute)))


def _service(cats: dict[str, Category], cat: Category, prefixes: set[str]) -> Service:
    names = [c.name for c in _path(cats, cat)]
    return Service(
        code=cat.code,
        name=cat.name,
        description=" / ".join(names),
        group=names[0],
        keywords=names[:-1],
        metadata=any(cat.code.startswith(p) for p in prefixes),
        path=names,
        urgency=cat.urgency or "normal",
    )


def list_services(session: Session) -> list[Service]:
    cats = _categories(session)
    prefixes = {a.category_prefix for a in _attribute_rows(session)}
    return [
        _service(cats, c, prefixes)
        for c in sorted(cats.values(), key=lambda c: c.code)
        if c.level == SERVICE_LEVEL
    ]


def get_service(session: Session, code: str) -> Service:
    cats = _categories(session)
    cat = cats.get(code)
    if cat is None or cat.level != SERVICE_LEVEL:
        raise NotFound(f"service_code '{code}' is not a service; see services.json")
    prefixes = {a.category_prefix for a in _attribute_rows(session)}
    return _service(cats, cat, prefixes)


def attributes_for(session: Session, code: str) -> list[Attribute]:
    get_service(session, code)
    rows = [a for a in _attribute_rows(session) if code.startswith(a.category_prefix)]
    # A more specific prefix overrides a question of the same code from a broader one.
    by_code: dict[str, ServiceAttribute] = {}
    for row in sorted(rows, key=lambda a: len(a.category_prefix)):
        by_code[row.code] = row
    return [
        Attribute(
            code=a.code,
            datatype=a.datatype,
            required=a.required,
            variable=a.variable,
            datatype_description=a.datatype_description,
            description=a.description,
            order=a.order,
            values=list(a.values or []),
        )
        for a in sorted(by_code.values(), key=lambda a: (a.order, a.code))
    ]


def parse_w3c(value: str, field_name: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{field_name}: '{value[:40]}' is not a W3C datetime, e.g. 2026-10-01T00:00:00+08:00"
        ) from exc
    if stamp.tzinfo is None:
        raise InvalidInput.of("needs_timezone", field=field_name)
    return stamp


def _one(attr: Attribute, values: list[str]) -> Any:
    name = f"attribute[{attr.code}]"
    keys = {v["key"] for v in attr.values}
    if attr.datatype == "multivaluelist":
        bad = [v for v in values if v not in keys]
        if bad:
            raise InvalidInput(f"{name}: '{bad[0][:40]}' is not one of {', '.join(sorted(keys))}")
        return sorted(set(values))
    if len(values) > 1:
        raise InvalidInput(f"{name}: give one value, not {len(values)}")
    value = values[0].strip()
    if attr.datatype == "singlevaluelist":
        if value not in keys:
            raise InvalidInput(f"{name}: '{value[:40]}' is not one of {', '.join(sorted(keys))}")
        return value
    if attr.datatype == "number":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise InvalidInput(f"{name}: '{value[:40]}' is not a number")
        return number
    if attr.datatype == "datetime":
        return parse_w3c(value, name).isoformat()
    limit = MAX_TEXT if attr.datatype == "text" else MAX_STRING
    if len(value) > limit:
        raise InvalidInput.of("max_chars", field=name, limit=limit)
    return value


def validate_attributes(
    attributes: list[Attribute], given: dict[str, list[str]], service_code: str
) -> dict[str, Any]:
    """The answers, typed; every wrong one is a 400 that names the attribute and the fix."""
    known = {a.code: a for a in attributes if a.variable}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidInput(
            f"attribute[{unknown[0][:50]}]: not a question of service {service_code}; "
            f"see services/{service_code}.json"
        )
    out: dict[str, Any] = {}
    for code, attr in known.items():
        values = [v for v in given.get(code, []) if v.strip()]
        if not values:
            if attr.required:
                raise InvalidInput(f"attribute[{code}]: required ({attr.description})")
            continue
        out[code] = _one(attr, values)
    return out
