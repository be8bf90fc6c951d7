"""The console's session cookie: its own name, salt and path (/staff), so a patient's portal
cookie is never sent here, and a lifetime no longer than a staff token's."""

from __future__ import annotations

from starlette.types import ASGIApp

from booking_api.core.config import Settings
from pages_common.security import PageSecurityMiddleware, SessionCookie

PREFIX = "/staff"
COOKIE_NAME = "cdip_staff"
STAFF_COOKIE = SessionCookie(COOKIE_NAME, "cdip.staff.session", 8 * 60 * 60, path=PREFIX)


def console_security(app: ASGIApp, settings: Settings) -> PageSecurityMiddleware:
    return PageSecurityMiddleware(app, settings, STAFF_COOKIE,
                                  lambda path: path == PREFIX or path.startswith(PREFIX + "/"))
