"""The FastAPI application: routers, and the one place domain errors become HTTP."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from jiesu import __version__
from jiesu.assessment.views import router as assessment_router
from jiesu.audit.views import router as audit_router
from jiesu.auth.http import install as install_http_guards
from jiesu.auth.views import router as auth_router
from jiesu.cases.registrar import Registrar
from jiesu.cases.views import router as cases_router
from jiesu.clock import Clock, SystemClock
from jiesu.db import make_engine, make_session_factory
from jiesu.errors import DomainError
from jiesu.governance.views import router as governance_router
from jiesu.knowledge.views import router as knowledge_router
from jiesu.open311.views import router as open311_router
from jiesu.settings import Settings, get_settings
from jiesu.triage.views import router as triage_router
from jiesu.units.views import router as units_router
from jiesu.web.apidocs import install as install_api_docs
from jiesu.web.responses import errors
from jiesu.web.setup import install as install_web

log = logging.getLogger("jiesu")


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status
    )


def _validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        out.append({"field": ".".join(loc), "message": e.get("msg", "invalid")})
    return out


def _allowed(request: Request) -> str:
    """Every method some route answers at this path (RFC 9110 §15.5.6). The router's own
    `Allow` names only the first route that matched the path, and GET and POST of one path
    are separate routes."""
    path = request.scope["path"]
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        # Open311's catch-all answers its own 404 to anything: it supports nothing.
        route_path = context.path or ""
        catch_all = route_path.endswith(":path}")
        if context.methods and not catch_all and compile_path(route_path)[0].match(path):
            methods |= context.methods
    return ", ".join(m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") if m in methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        resp = _error(exc.status_code, exc.code, exc.message, exc.details)
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(list(exc.errors()))
        first = details[0] if details else {"field": "", "message": "invalid request"}
        msg = f"{first['field'] or 'request'}: {first['message']}"
        return _error(422, "invalid_input", msg, details)

    @app.exception_handler(ValidationError)
    async def model_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        details = _validation_details(list(exc.errors()))
        first = details[0] if details else {"field": "", "message": "invalid request"}
        return _error(422, "invalid_input", f"{first['field']}: {first['message']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        resp = _error(exc.status_code, "http_error", str(exc.detail))
        resp.headers.update(exc.headers or {})
        if exc.status_code == 405:
            resp.headers["Allow"] = _allowed(request)
        return resp

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity conflict: %s", type(exc.orig).__name__)
        return _error(409, "conflict", "the change conflicts with another one; reload and retry")

    @app.exception_handler(DataError)
    async def unstorable(_: Request, exc: DataError) -> JSONResponse:
        # A value the database refuses as such: a NUL character in text (PostgreSQL cannot
        # hold one; a query parameter or form field reaches it unchecked), a malformed number.
        log.warning("value refused by the database: %s", type(exc.orig).__name__)
        if "NUL" in str(exc.orig) or "\\u0000" in str(exc.orig):
            return _error(422, "invalid_input", "NUL characters (U+0000) are not allowed")
        return _error(422, "invalid_input", "a value cannot be stored or searched as given")

    @app.exception_handler(OperationalError)
    async def unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return _error(503, "unavailable", "the database is busy or unavailable; retry shortly")


# Every error body, 422 included, is {"error": {...}} (install_error_handlers); the OpenAPI
# document must say so instead of FastAPI's default {"detail": [...]}.
ERROR_BODY: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


def _document_errors(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_BODY
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="jiesu",
        version=__version__,
        description="Citizen-request hotline platform (接诉即办, Open311).",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # jiesu.web.apidocs serves it from our own files, not a CDN
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock or SystemClock()
    app.state.registrar = Registrar(
        app.state.session_factory,
        app.state.clock,
        settings.register_group_max,
        settings.register_linger_ms / 1000,
    )
    install_error_handlers(app)
    _document_errors(app)
    install_http_guards(app, settings.max_body_bytes)

    @app.get("/api/v1/health", tags=["health"], responses=errors())
    def health() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    app.include_router(auth_router, prefix="/api/v1")
    app.include_router(cases_router, prefix="/api/v1")
    app.include_router(assessment_router, prefix="/api/v1")
    app.include_router(units_router, prefix="/api/v1")
    app.include_router(knowledge_router, prefix="/api/v1")
    app.include_router(governance_router, prefix="/api/v1")
    install_web(app)
    install_api_docs(app)
    app.include_router(triage_router, prefix="/api/v1")
    app.include_router(open311_router)
    app.include_router(audit_router, prefix="/api/v1")
    return app
