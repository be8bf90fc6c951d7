"""Mounting the portal on the web app the composition root builds: its routes at the site
root, NHS.UK frontend's built files served from the npm package, the portal's own static
files, the security middleware, and the pages shown when a form's token fails or a session
has ended."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from booking_api.core.app_state import settings_of
from booking_api.core.config import Environment
from pages_common.forms import UnreadableField
from pages_common.security import CsrfFailed, on_page_error
from patient_portal.error_pages import install_error_pages
from patient_portal.rendering import render
from patient_portal.security import portal_security
from patient_portal.signed_in import NotSignedIn
from patient_portal.views import confirm, contact, journey, manage, needs, offer, sign_in
from patient_portal.views.common import CannotBookOnline, see_other, tell_next_page
from patient_portal.views.questions import add_question_pages

REPO_ROOT = Path(__file__).resolve().parent.parent
NHSUK_DIST = REPO_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
PORTAL_STATIC = Path(__file__).parent / "static"
logger = logging.getLogger(__name__)


class FrontendMissing(RuntimeError):
    """NHS.UK frontend is not installed; the message says how to install it."""


def mount_portal(app: FastAPI) -> None:
    """Add the patient pages to `app`. Without NHS.UK frontend installed (`npm ci`) the
    service refuses to start in production; elsewhere it warns and serves unstyled pages, so
    the API and its tests do not depend on npm."""
    if not frontend_installed():
        message = (f"NHS.UK frontend is not installed at {NHSUK_DIST}: run `make setup` "
                   "(or `npm ci`) in the repository root")
        if settings_of(app).environment is Environment.PRODUCTION:
            raise FrontendMissing(message)
        logger.warning(message)
    else:
        app.mount("/assets", StaticFiles(directory=NHSUK_DIST / "assets"),
                  name="nhsuk-assets")
        app.mount("/static/nhsuk", StaticFiles(directory=NHSUK_DIST), name="nhsuk-frontend")
    app.mount("/static/portal", StaticFiles(directory=PORTAL_STATIC), name="portal-static")
    for module in (sign_in, journey, confirm, manage, offer, needs, contact):
        app.include_router(module.router)
    add_question_pages(app)
    app.add_middleware(portal_security, settings=settings_of(app))
    app.add_exception_handler(NotSignedIn, _signed_out)
    on_page_error(app, CsrfFailed, "/", _csrf_failed)
    on_page_error(app, UnreadableField, "/", _unreadable_field)
    app.add_exception_handler(CannotBookOnline, _cannot_book)
    install_error_pages(app)


def frontend_installed() -> bool:
    return (NHSUK_DIST / "nhsuk-frontend.min.css").is_file()


def _signed_out(request: Request, error: Exception) -> Response:
    tell_next_page(request, str(error))
    return see_other("/")


def _csrf_failed(request: Request, _error: Exception) -> Response:
    return render(request, "portal/message.jinja", {
        "heading": "Sorry, this page has expired",
        "lines": ["For your security, the form you sent could not be accepted. This happens "
                  "when a page is left open for a long time or cookies are switched off.",
                  "Nothing has been changed."],
        "link": {"href": "/", "text": "Start again"}}, status=400)


def _unreadable_field(request: Request, error: Exception) -> Response:
    return render(request, "portal/message.jinja", {
        "heading": "Sorry, we could not read the form you sent",
        "lines": [f"{error}.", "Go back, check what you typed and try again. "
                  "Nothing has been changed."],
        "link": {"href": "/", "text": "Start again"}}, status=400)


def _cannot_book(request: Request, error: Exception) -> Response:
    return render(request, "portal/message.jinja", {
        "heading": "You cannot book this test online",
        "lines": [str(error)]})
