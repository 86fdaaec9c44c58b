"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from jiesu.assessment.models import AssessmentPolicy, AssessmentRow, AssessmentSnapshot
from jiesu.audit.models import AccessLog
from jiesu.auth.models import ApiToken, LoginAttempt, User
from jiesu.cases.models import Assignment, Callback, Case, CaseEvent, CaseKey, Reminder, Task
from jiesu.db import Base
from jiesu.importers.models import ExternalRef
from jiesu.intake.idempotency import IdempotencyKey
from jiesu.knowledge.models import Article
from jiesu.notify.models import Notification, NotificationAttempt, UnitContact
from jiesu.open311.models import Open311Client, Open311Request, ServiceAttribute
from jiesu.ops.models import RetentionRun
from jiesu.routing.models import RoutingRule
from jiesu.sla.models import CalendarDay, SlaPolicy
from jiesu.units.models import Category, Unit
from jiesu.web.models import AdminChange, CitizenPhoto, CitizenRating, RateCounter, WebSession

__all__ = [
    "AccessLog",
    "AdminChange",
    "ApiToken",
    "Article",
    "AssessmentPolicy",
    "AssessmentRow",
    "AssessmentSnapshot",
    "Assignment",
    "Base",
    "CalendarDay",
    "Callback",
    "Case",
    "CaseEvent",
    "CaseKey",
    "Category",
    "CitizenPhoto",
    "CitizenRating",
    "ExternalRef",
    "IdempotencyKey",
    "LoginAttempt",
    "Notification",
    "NotificationAttempt",
    "Open311Client",
    "Open311Request",
    "RateCounter",
    "Reminder",
    "RetentionRun",
    "RoutingRule",
    "ServiceAttribute",
    "SlaPolicy",
    "Task",
    "Unit",
    "UnitContact",
    "User",
    "WebSession",
]
