"""Who is acting: enough for permission checks and the event log."""

from __future__ import annotations

from dataclasses import dataclass

from jiesu.cases.workflow import Role


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    unit_code: str | None = None

    @property
    def is_unit(self) -> bool:
        return self.role is Role.HANDLER


SYSTEM = Actor("system", Role.ADMIN)
