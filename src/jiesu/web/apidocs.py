"""The API's Swagger page (/api/v1/docs), served from our own static files.

FastAPI's default page loads swagger-ui from a CDN: blank on a city network without internet
access, and a third party learns who reads our API. The files come from npm's swagger-ui-dist
(web/package.json, copied by `make vendor`); the start-up code is our own static file, so the
page runs under a CSP that allows scripts and styles from this server only.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

DOCS_PATH = "/api/v1/docs"
SWAGGER_JS = "/static/vendor/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui.css"
START_JS = "/static/apidocs.js"
# Swagger UI builds its DOM with React (styles through the CSSOM, which style-src does not
# govern) and fetches only the OpenAPI document and the calls "Try it out" makes.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)} – API</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="{SWAGGER_CSS}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{SWAGGER_JS}"></script>
<script src="{START_JS}"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Call with FastAPI(docs_url=None): this route takes the default page's place."""
    html = page(app.title, app.openapi_url or "/openapi.json")

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})
