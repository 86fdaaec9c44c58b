"""Domain errors; the web layer maps each to an HTTP status in one handler.

An error raised with `of(message_id, **params)` carries a catalogued `Reason` (jiesu/reasons.py):
its English sentence is the message, its parameters are the details, and a page translates it
from the id. An error raised with a plain message keeps it as it is.
"""

from __future__ import annotations

from typing import Any, Self

from jiesu.reasons import Reason


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        reason: Reason | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.reason = reason
        if code is not None:
            self.code = code

    @classmethod
    def of(
        cls, message_id: str, /, *, code: str | None = None, see: str | None = None, **params: Any
    ) -> Self:
        """The error for a catalogued reason; `see` points API clients at the docs (pages leave
        it out)."""
        reason = Reason(message_id, params)
        message = reason.message + (f" (see {see})" if see else "")
        return cls(message, details=dict(params) or None, code=code, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
