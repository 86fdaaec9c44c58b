"""HTTP guards for the machine-facing surface: a request body size limit (413 before anything
is parsed) and security headers on the JSON API. The consoles' own headers (CSP) are set in
jiesu.web.setup; this adds nothing there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Pages take a citizen's photo (5 MB by default); everything else is small JSON or a form.
PAGE_BODY_BYTES = 8 * 1024 * 1024
API_PREFIXES = ("/api/", "/open311/")


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse bodies above the limit: by Content-Length at once, and by counting for chunked
    uploads that do not declare a length."""

    def __init__(self, app: ASGIApp, api_limit: int, page_limit: int = PAGE_BODY_BYTES) -> None:
        self.app = app
        self.api_limit = api_limit
        self.page_limit = page_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.api_limit if path.startswith(API_PREFIXES) else self.page_limit
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        seen = 0
        started = exceeded = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # FastAPI's body parser turns any read error into its own 400 "error parsing
                # the body"; the client must hear 413 and the limit instead.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": f"request body larger than {limit} bytes; send less",
                "details": {"max_bytes": limit},
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, max_body_bytes: int) -> None:
    @app.middleware("http")
    async def api_security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            # Swagger UI under /api/v1/docs needs its own scripts; JSON needs nothing at all.
            if not request.url.path.startswith("/api/v1/docs"):
                response.headers.setdefault(
                    "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
                )
            if "authorization" in request.headers or request.url.path.startswith("/api/v1/auth"):
                # Personal data and tokens must not sit in shared or browser caches.
                response.headers["Cache-Control"] = "no-store"
        return response

    app.add_middleware(BodyLimit, api_limit=max_body_bytes)
