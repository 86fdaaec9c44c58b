"""The error answers each API router documents in OpenAPI, with the one error body.

Every error the API sends is `{"error": {"code", "message", "details"}}` (app.py's handlers).
A router lists the statuses its routes can answer, so that a client generated from the
document, and the conformance fuzzer (tests/api/test_fuzz_openapi.py), know them all.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


MEANING = {
    400: "The body cannot be parsed (malformed JSON or form).",
    401: "Not logged in, or the token has expired or was revoked.",
    403: "The caller's role or unit may not do this.",
    404: "No such resource (or not visible to the caller).",
    409: "The change conflicts with the resource's current state.",
    413: "The body is larger than the server accepts.",
    422: "A parameter or a field of the body is invalid.",
    429: "Too many attempts; retry after the time in Retry-After.",
    503: "The database is busy or unavailable; retry shortly.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router or route: the statuses given, plus 503 (any route reads the
    database) and 413 (the body limit guards every route)."""
    wanted = sorted({*statuses, 413, 503})
    return {s: {"model": ErrorBody, "description": MEANING[s]} for s in wanted}
