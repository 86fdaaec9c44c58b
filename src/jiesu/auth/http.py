"""HTTP guards for the machine-facing surface: a request body size limit (413 before anything
is parsed) and security headers on the JSON API. The consoles' own headers (CSP) are set in
jiesu.web.setup; this adds nothing there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

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
        # Only ASCII digits are a length (RFC 9110); bytes.isdigit() is ASCII-only, and a
        # huge number is simply too large.
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


_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class ApiHeaders:
    """Security headers on every /api/ response. Plain ASGI, not `@app.middleware("http")`:
    Starlette's BaseHTTPMiddleware runs each response through a task group and memory streams,
    which measured ~6% of the workers' Python CPU under load (bench/serve/RESULTS.md)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        # JSON needs nothing at all; the Swagger page sets its own CSP (jiesu.web.apidocs),
        # which is kept as every header a response sets itself.
        extra = [*_API_HEADERS, _API_CSP]
        # Personal data and tokens must not sit in shared or browser caches.
        no_store = path.startswith("/api/v1/auth") or any(
            name == b"authorization" for name, _ in scope.get("headers") or ()
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in extra if n not in present]
                if no_store:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


_NO_STORE = (b"cache-control", b"no-store")


class PageHeaders:
    """Default headers on every response outside /api/ (the consoles): each is added unless
    the response set its own. Every response outside `cacheable` (the static files) also gets
    `Cache-Control: no-store`: console pages and exports show citizens' names and full phones,
    which must not stay in a shared proxy or the browser's cache after logout. Plain ASGI,
    like ApiHeaders."""

    def __init__(
        self, app: ASGIApp, headers: dict[str, str], cacheable: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.cacheable = cacheable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        defaults = self.headers
        if not path.startswith(self.cacheable):
            defaults = [*defaults, _NO_STORE]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [(n, v) for n, v in defaults if n not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, max_body_bytes: int) -> None:
    app.add_middleware(ApiHeaders)
    app.add_middleware(BodyLimit, api_limit=max_body_bytes)
