"""API models for the case aggregate: what comes in (commands) and what goes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jiesu.inputs import Input, digits

RequestType = Literal["inquiry", "help", "complaint", "report", "suggestion"]
Urgency = Literal["urgent", "prompt", "normal", "complex"]
Channel = Literal[
    "phone", "web", "app", "wechat", "weibo", "open311", "email", "letter", "visit", "other"
]
Resolved = Literal["yes", "partly", "no"]
Satisfaction = Literal["satisfied", "basically", "dissatisfied"]


class Strict(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CitizenIn(Strict):
    name: str = Field("", max_length=100)
    phone: str = Field("", max_length=32, pattern=r"^[0-9+\-() ]*$")


class RegisterIn(Strict):
    text: str = Field(min_length=1, max_length=10000)
    request_type: RequestType
    category: str | None = Field(None, max_length=32)
    urgency: Urgency | None = None
    address: str = Field("", max_length=500)
    district: str | None = Field(None, max_length=32)
    street: str | None = Field(None, max_length=32)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    channel: Channel = "phone"
    citizen: CitizenIn = Field(default_factory=lambda: CitizenIn(name="", phone=""))


class ActionIn(Strict):
    version: int | None = Field(None, ge=1, description="stale versions are refused with 409")


class ReasonIn(ActionIn):
    reason: str = Field(min_length=1, max_length=4000)


class OptionalReasonIn(ActionIn):
    reason: str = Field("", max_length=4000)


class AnswerIn(ActionIn):
    text: str = Field(min_length=1, max_length=10000)
    article_id: int | None = Field(None, ge=1, description="knowledge-base article answered from")


class DispatchIn(ActionIn):
    lead_unit: str | None = Field(None, max_length=32, description="empty: use routing rules")
    co_units: list[str] = Field(default_factory=list, max_length=20)
    # The dispatcher confirms or corrects what intake (and triage) proposed.
    category: str | None = Field(None, max_length=32)
    urgency: Urgency | None = None


class ReassignIn(ActionIn):
    lead_unit: str = Field(min_length=1, max_length=32)
    reason: str = Field("", max_length=4000)
    reset_clock: bool = False


class ContactIn(ActionIn):
    note: str = Field("", max_length=4000)


class ReturnIn(ReasonIn):
    evidence: str = Field("", max_length=4000)


class ApproveReturnIn(ActionIn):
    reason: str = Field("", max_length=4000)
    # The review decides whether the misdirection stops the clock (DESIGN §3).
    reset_clock: bool = True


class WhistleIn(ActionIn):
    units: list[str] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=4000)
    due_hours: int | None = Field(None, ge=1, le=24 * 60)


class TextIn(ActionIn):
    text: str = Field(min_length=1, max_length=10000)


class ExtensionIn(ActionIn):
    days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=4000)


class CallbackIn(ActionIn):
    contacted: bool
    resolved: Resolved
    satisfaction: Satisfaction
    note: str = Field("", max_length=4000)


# Ids are INTEGER columns: on PostgreSQL a larger number is a database error (500), not a 404.
MAX_ID = 2**31 - 1


class MergeIn(ActionIn):
    into: int = Field(ge=1, le=MAX_ID)


ACTION_SCHEMAS: dict[str, type[ActionIn]] = {
    "answer": AnswerIn,
    "dispatch": DispatchIn,
    "acknowledge": ActionIn,
    "contact": ContactIn,
    "return": ReturnIn,
    "approve_return": ApproveReturnIn,
    "reject_return": ReasonIn,
    "reassign": ReassignIn,
    "whistle": WhistleIn,
    "accept_task": ActionIn,
    "reply_task": TextIn,
    "escalate": ReasonIn,
    "request_extension": ExtensionIn,
    "approve_extension": OptionalReasonIn,
    "reject_extension": ReasonIn,
    "reply": TextIn,
    "callback": CallbackIn,
    "reopen": ReasonIn,
    "merge": MergeIn,
    "terminate": ReasonIn,
    "request_exclusion": ReasonIn,
    "approve_exclusion": OptionalReasonIn,
    "reject_exclusion": ReasonIn,
}


class TaskOut(BaseModel):
    id: int
    unit: str
    status: str
    due: datetime
    reason: str
    reply_text: str


class CaseOut(BaseModel):
    id: int
    status: str
    version: int
    text: str
    request_type: str
    category: str | None
    urgency: str
    channel: str
    address: str
    district: str | None
    street: str | None
    lat: float | None
    lon: float | None
    citizen: dict[str, str]
    lead_unit: str | None
    co_units: list[str]
    tasks: list[TaskOut]
    answer_text: str
    reply_text: str
    master_case_id: int | None
    escalation_level: int
    reopen_count: int
    extension_pending_days: int | None
    exclusion_state: str
    policy_version: int | None
    contact_due: datetime | None
    reply_due: datetime | None
    callback_due: datetime | None
    overdue: list[str]
    created_at: datetime
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    contacted_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str]
    triage: dict[str, Any] | None = None


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    unit: str | None
    action: str
    from_status: str | None
    to_status: str
    reason: str
    payload: dict[str, Any]


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    page_size: int


def digits_only(value: str) -> str:
    # Decimal digits of any script as ASCII; `²` and `①` are not digits of a phone number.
    return "".join(digits(ch) or "" for ch in value)
