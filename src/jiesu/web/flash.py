"""One-time messages after a POST (post/redirect/get), carried by the browser's session.

A result used to travel in `?ok=` / `?error=`, so anyone could craft a link that shows any
text on our page. Now it rides in a short-lived HttpOnly cookie signed with the session's
own secret (the CSRF token of the login session, or the citizen page's double-submit token):
another session, another site or a hand-made link cannot produce a message, and it is shown
once, then deleted. A cookie rather than a column keeps the redirect free of a database write.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

COOKIE = "jiesu_flash"
# Browsers drop cookies over ~4 KB; a longer message is cut (it is a summary, not a log).
MAX_TEXT = 1200


def _sign(key: str, payload: str) -> str:
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def encode(key: str, data: dict[str, Any]) -> str:
    clean = {k: (v[:MAX_TEXT] if isinstance(v, str) else v) for k, v in data.items() if v}
    payload = base64.urlsafe_b64encode(json.dumps(clean).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(key, payload)}"


def decode(key: str, value: str | None) -> dict[str, Any]:
    if not key or not value or "." not in value:
        return {}
    payload, sig = value.rsplit(".", 1)
    if not hmac.compare_digest(sig, _sign(key, payload)):
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def redirect(
    request: Request,
    url: str,
    key: str,
    *,
    ok: str | None = None,
    error: str | None = None,
    **extra: Any,
) -> RedirectResponse:
    """A 303 to `url` that shows `ok` / `error` (and page-specific `extra`) once."""
    response = RedirectResponse(url, status_code=303)
    data = {"ok": ok, "error": error, **extra}
    if any(data.values()):
        secure = bool(getattr(request.app.state.web_settings, "cookie_secure", False))
        response.set_cookie(
            COOKIE,
            encode(key, data),
            max_age=120,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    return response


def take(request: Request, key: str, response: Response | None = None) -> dict[str, Any]:
    """The message meant for this page view; `response` then forgets it."""
    data = decode(key, request.cookies.get(COOKIE))
    if response is not None and COOKIE in request.cookies:
        response.delete_cookie(COOKIE)
    return data
