"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from jiesu.auth.models import ApiToken, User
from jiesu.cases.models import Assignment, Callback, Case, CaseEvent, Reminder, Task
from jiesu.db import Base
from jiesu.routing.models import RoutingRule
from jiesu.sla.models import CalendarDay, SlaPolicy
from jiesu.units.models import Category, Unit

__all__ = [
    "ApiToken",
    "Assignment",
    "Base",
    "CalendarDay",
    "Callback",
    "Case",
    "CaseEvent",
    "Category",
    "Reminder",
    "RoutingRule",
    "SlaPolicy",
    "Task",
    "Unit",
    "User",
]
