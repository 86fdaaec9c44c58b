"""Loading the organisation and the taxonomy into the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.units.catalog import CategoryRow, UnitRow, load_categories, load_units
from jiesu.units.models import Category, Unit


def upsert_units(session: Session, rows: Sequence[UnitRow]) -> int:
    existing = {u.code: u for u in session.scalars(select(Unit))}
    # Parents first, so the foreign key holds on every backend.
    for row in sorted(rows, key=lambda r: r.parent_code is not None):
        unit = existing.get(row.code)
        if unit is None:
            unit = Unit(code=row.code)
            session.add(unit)
        unit.name = row.name
        unit.kind = row.kind
        unit.parent_code = row.parent_code
        unit.aliases = "|".join(row.aliases)
        unit.active = True
    session.flush()
    return len(rows)


def upsert_categories(session: Session, rows: Sequence[CategoryRow]) -> int:
    existing = {c.code: c for c in session.scalars(select(Category))}
    for row in sorted(rows, key=lambda r: r.level):
        cat = existing.get(row.code)
        if cat is None:
            cat = Category(code=row.code)
            session.add(cat)
        cat.name = row.name
        cat.level = row.level
        cat.parent_code = row.parent_code
        cat.livelihood_dimension = row.livelihood_dimension
        cat.urgency = row.urgency or ""
        cat.active = True
    session.flush()
    return len(rows)


def load_default_organisation(session: Session) -> tuple[int, int]:
    """The shipped Beijing units and the default taxonomy; safe to run again."""
    return upsert_units(session, load_units()), upsert_categories(session, load_categories())
