"""Error pages a browser reads: NHS-styled "Page not found" and "Sorry, there is a problem
with the service" for a page request (one that accepts HTML, outside the API's paths),
while the JSON API, FHIR and HL7 keep their JSON answers. The 500 page is rendered without
the session or the CSP nonce (it runs outside the middleware that provides them), and so
is a 404 outside the portal's paths (the staff console's)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from patient_portal.rendering import RENDERER, render
from patient_portal.security import NOT_PORTAL

API_PATHS = ("/api", "/fhir", "/hl7", "/health", "/openapi.json", "/docs", "/redoc")
"""Paths whose callers are programs: their errors stay JSON, whatever they accept."""
logger = logging.getLogger(__name__)


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)


def wants_a_page(request: Request) -> bool:
    """A browser asking for a page: it accepts HTML and the path is not the API's."""
    accepts = request.headers.get("accept", "")
    return "text/html" in accepts and not request.url.path.startswith(API_PATHS)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code != 404 or not wants_a_page(request):
        return await http_exception_handler(request, error)
    if _inside_the_portal(request):
        return render(request, "portal/not_found.jinja", {"start_href": "/"}, status=404)
    return _page(request, "portal/not_found.jinja", 404)


def _server_error(request: Request, error: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    if not wants_a_page(request):
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    return _page(request, "portal/server_error.jinja", 500)


def _inside_the_portal(request: Request) -> bool:
    """Whether the portal's middleware has run (its session and CSP nonce are there)."""
    return (not request.url.path.startswith(NOT_PORTAL)
            and getattr(request.state, "csp_nonce", None) is not None)


def _page(request: Request, template: str, status: int) -> HTMLResponse:
    """The page from the portal's templates with nothing taken from the session (no sign-out
    form, no nonce: the page has no script of its own)."""
    staff = request.url.path.startswith("/staff")
    html = RENDERER.env.get_template(template).render({
        "request": request, "service_name": RENDERER.service_name, "errors": {},
        "error_list": [], "signed_in": False, "csrf_token": "", "cspNonce": "",
        "start_href": "/staff" if staff else "/", "no_script": True})
    return HTMLResponse(html, status_code=status)
