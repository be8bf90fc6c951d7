"""Mounting the console on the web app the composition root builds: its routes under
/staff, its static files, its protections (the shared page security with the console's own
cookie), and the pages shown when a session has ended, a role does not allow a page, or a
form's token fails."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from booking_api.core.app_state import settings_of
from booking_api.reports.dashboard import when_computed
from pages_common.forms import UnreadableField
from pages_common.security import CsrfFailed, on_page_error
from staff_console.charts import draw_ahead
from staff_console.rendering import render
from staff_console.security import PREFIX, console_security
from staff_console.signed_in import (
    NotAllowed,
    NotSignedIn,
    SecondFactorNeeded,
    tell_next_page,
)
from staff_console.views import (
    admin,
    backfill,
    booking,
    diary,
    disruptions,
    intake,
    reports,
    requests,
    second_factor,
    sign_in,
    simulations,
    vetting,
    worklist,
)
from staff_console.views.common import PageNotFound, see_other

CONSOLE_STATIC = Path(__file__).parent / "static"


def mount_console(app: FastAPI) -> None:
    """Add the staff pages to `app` (NHS.UK frontend's files are served by the portal's
    mount at /static/nhsuk)."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=CONSOLE_STATIC), name="console-static")
    for module in (sign_in, second_factor, worklist, vetting, requests, booking, diary,
                   backfill, disruptions, intake, reports, simulations, admin):
        app.include_router(module.router)
    app.add_middleware(console_security, settings=settings_of(app))
    app.add_exception_handler(NotSignedIn, _signed_out)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(SecondFactorNeeded, _second_factor_first)
    app.add_exception_handler(PageNotFound, _not_found)
    on_page_error(app, CsrfFailed, PREFIX, _csrf_failed)
    on_page_error(app, UnreadableField, PREFIX, _unreadable_field)
    when_computed(draw_ahead)


def _signed_out(request: Request, error: Exception) -> Response:
    tell_next_page(request, str(error))
    return see_other("/staff/sign-in")


def _second_factor_first(request: Request, error: Exception) -> Response:
    tell_next_page(request, str(error))
    return see_other("/staff/second-factor")


def _not_allowed(request: Request, error: Exception) -> Response:
    return render(request, "staff/message.jinja", {
        "heading": "You cannot use this page", "lines": [str(error)],
        "link": {"href": "/staff", "text": "Go to your start page"}}, status=403)


def _csrf_failed(request: Request, _error: Exception) -> Response:
    return render(request, "staff/message.jinja", {
        "heading": "Sorry, this page has expired",
        "lines": ["The form could not be accepted: it was open too long, or cookies are "
                  "switched off. Nothing has been changed."],
        "link": {"href": "/staff", "text": "Start again"}}, status=400)


def _not_found(request: Request, error: Exception) -> Response:
    return render(request, "staff/message.jinja", {
        "heading": "Page not found", "lines": [str(error)],
        "link": {"href": "/staff", "text": "Go to your start page"}}, status=404)


def _unreadable_field(request: Request, error: Exception) -> Response:
    return render(request, "staff/message.jinja", {
        "heading": "Sorry, the form could not be read",
        "lines": [f"{error}.", "Go back, check what was typed and try again. Nothing has "
                  "been changed."], "link": {"href": "/staff", "text": "Start again"}},
        status=400)
