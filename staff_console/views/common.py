"""What every console route needs: the service's handles, the posted form (CSRF checked),
redirects after a POST, one-off notices, a form run once per key, and today in the UK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from booking_api.audit.reads import Reader
from booking_api.core.app_state import database_of
from booking_api.core.db import Database
from pages_common.forms import FormData, posted_form, text_fields
from pages_common.once import submit_once
from pages_common.rendering import LONDON
from staff_console.signed_in import (
    CLERKS,
    EVERY_ROLE,
    ConsoleStaff,
    now_of,
    staff_setting_up,
    staff_with,
)

Form = Annotated[FormData, Depends(posted_form)]
AnyStaff = Annotated[ConsoleStaff, staff_with(*EVERY_ROLE)]
Clerk = Annotated[ConsoleStaff, staff_with(*CLERKS)]
Vetter = Annotated[ConsoleStaff, staff_with("vetting")]
Admin = Annotated[ConsoleStaff, staff_with("admin")]
Manager = Annotated[ConsoleStaff, staff_with("manager", "admin")]
OwnAccount = Annotated[ConsoleStaff, Depends(staff_setting_up)]
"""Any member of staff on their own account's pages, even before their second factor."""
MAX_REASON = 2000


class PageNotFound(Exception):
    """What a page is about does not exist; the message says what (no personal data)."""


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def database(request: Request) -> Database:
    return database_of(request.app)


def reader(request: Request, staff: ConsoleStaff) -> Reader:
    """Who reads a patient's record through this page, for the record's access log."""
    route = request.scope.get("route")
    return Reader(staff.actor, getattr(route, "path", None) or request.url.path)


def today(request: Request) -> date:
    return now_of(request).astimezone(LONDON).date()


def once(request: Request, staff: ConsoleStaff, form: FormData, success: str,
         action: Callable[[], Response]) -> Response:
    """Run the form's change at most once per key (a double click books once)."""
    return submit_once(request, staff.subject, text_fields(form), success=success,
                       action=action)


def reason_error(text: str, field: str = "reason", what: str = "a reason") -> str | None:
    """The message for a missing or over-long reason, or None when it is fine."""
    if not text.strip():
        return f"Enter {what}"
    if len(text) > MAX_REASON:
        return f"The reason must be {MAX_REASON} characters or fewer"
    return None
