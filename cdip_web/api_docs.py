"""The API's interactive documentation at /docs with Swagger UI's files served from this
service (npm package `swagger-ui-dist`, pinned in package.json), not from a CDN: the page
works offline and behind a firewall, and the browser fetches nothing from elsewhere. ReDoc
(/redoc) is not served: it too would load its script from a CDN, and Swagger UI covers it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_DIST = Path(__file__).resolve().parent.parent / "node_modules" / "swagger-ui-dist"
ASSETS = "/docs/assets"
DOCS = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def serve_api_docs(app: FastAPI) -> None:
    """Add /docs with local assets (the app is made with `docs_url=None`). Without the npm
    package installed (`npm ci`) there is no /docs, rather than a blank page."""
    if not (SWAGGER_UI_DIST / "swagger-ui-bundle.js").is_file() or app.openapi_url is None:
        return
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI_DIST), name="swagger-ui")
    openapi_url, title = app.openapi_url, f"{app.title} – API documentation"

    @app.get(DOCS, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=title, oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
