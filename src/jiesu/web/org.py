"""Names of units and categories for the pages (codes are what the services speak)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiesu.units.models import Category, Unit


@dataclass(frozen=True)
class Org:
    unit_names: dict[str, str]
    unit_kind: dict[str, str]
    unit_parent: dict[str, str | None]
    category_names: dict[str, str]
    category_path: dict[str, str]
    # (group label "住房 › 物业服务", [(leaf code, leaf name)]) in code order: the 3-level select.
    category_groups: list[tuple[str, list[tuple[str, str]]]]
    # (code, name, level, parent code) in code order: the agent's three cascading selects.
    category_rows: tuple[tuple[str, str, int, str | None], ...] = ()

    def category_level(self, code: str | None, level: int) -> str:
        """The ancestor of `code` at `level` (codes extend their parents' codes)."""
        for c, _, lv, _ in self.category_rows:
            if lv == level and code and code.startswith(c):
                return c
        return ""

    def unit(self, code: str | None) -> str:
        return self.unit_names.get(code, code) if code else ""

    def category(self, code: str | None) -> str:
        return self.category_path.get(code, code) if code else ""

    def districts(self) -> list[tuple[str, str]]:
        return sorted((c, n) for c, n in self.unit_names.items() if self.unit_kind[c] == "district")

    def streets(self) -> list[tuple[str, str, str]]:
        """(district name, street code, street name), grouped by district for an optgroup."""
        out = []
        for code, name in self.unit_names.items():
            if self.unit_kind[code] == "street":
                parent = self.unit_parent.get(code)
                out.append((self.unit(parent), code, name))
        return sorted(out, key=lambda r: r[1])

    def units_of_kind(self, *kinds: str) -> list[tuple[str, str]]:
        return sorted((c, n) for c, n in self.unit_names.items() if self.unit_kind[c] in kinds)


def load_org(session: Session) -> Org:
    units = session.execute(
        select(Unit.code, Unit.name, Unit.kind, Unit.parent_code).where(Unit.active.is_(True))
    ).all()
    cats = session.execute(
        select(Category.code, Category.name, Category.level, Category.parent_code)
        .where(Category.active.is_(True))
        .order_by(Category.code)
    ).all()
    names = {c.code: c.name for c in cats}
    path: dict[str, str] = {}
    for c in cats:  # parents sort before their children (codes are prefixes)
        parent = path.get(c.parent_code) if c.parent_code else None
        path[c.code] = f"{parent} › {c.name}" if parent else c.name
    groups: dict[str, list[tuple[str, str]]] = {}
    for c in cats:
        if c.level == 3 and c.parent_code:
            groups.setdefault(path.get(c.parent_code, c.parent_code), []).append((c.code, c.name))
    return Org(
        unit_names={u.code: u.name for u in units},
        unit_kind={u.code: u.kind for u in units},
        unit_parent={u.code: u.parent_code for u in units},
        category_names=names,
        category_path=path,
        category_groups=list(groups.items()),
        category_rows=tuple((c.code, c.name, c.level, c.parent_code) for c in cats),
    )
