"""The portal's session cookie and the paths it covers; the protections themselves (signed
cookie, CSP with nonces, CSRF) are `pages_common.security`, shared with the staff console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp

from booking_api.core.config import Settings
from pages_common.security import (
    PageSecurityMiddleware,
    SessionCookie,
    page_session,
)
from pages_common.security import session_reader as cookie_reader

COOKIE_NAME = "cdip_portal"
COOKIE_MAX_AGE_S = 2 * 60 * 60
NOT_PORTAL = ("/api", "/docs", "/redoc", "/openapi.json", "/health", "/staff")
"""Paths the portal's cookie and headers leave alone (the JSON API and its docs, the staff
console with its own cookie)."""
PORTAL_COOKIE = SessionCookie(COOKIE_NAME, "cdip.portal.session", COOKIE_MAX_AGE_S)


def portal_session(request: Request) -> dict[str, Any]:
    """This browser's portal session data (saved by the middleware after the response)."""
    return page_session(request)


def portal_security(app: ASGIApp, settings: Settings) -> PageSecurityMiddleware:
    """The shared page protections over every path but NOT_PORTAL."""
    return PageSecurityMiddleware(app, settings, PORTAL_COOKIE,
                                  lambda path: not path.startswith(NOT_PORTAL))


def session_reader(settings: Settings) -> Callable[[str | None], dict[str, Any]]:
    """Reads the portal cookie's data: {} unless its signature verifies and it is fresh."""
    return cookie_reader(settings, PORTAL_COOKIE)
