"""The portal's protections: a signed session cookie (HttpOnly, SameSite=Lax, Secure unless
the service runs on plain http for a demo or test), a per-response Content-Security-Policy
with a script nonce and the other security headers, and CSRF tokens checked on every form.

The session holds only what the pages need between requests (the patient's signed token,
the CSRF token, the journey's choices); nothing personal is ever put in a URL."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_api.core.config import Environment, Settings

COOKIE_NAME = "cdip_portal"
COOKIE_MAX_AGE_S = 2 * 60 * 60
NOT_PORTAL = ("/api", "/docs", "/redoc", "/openapi.json", "/health")
"""Paths the portal's cookie and headers leave alone (the JSON API and its docs)."""
FONT_HOST = "https://assets.nhs.uk"
"""NHS.UK frontend's stylesheet loads the Frutiger web fonts from here."""


class CsrfFailed(Exception):
    """A form arrived without the token this browser's session was given."""


def portal_session(request: Request) -> dict[str, Any]:
    """This browser's session data (a dict the middleware saves after the response)."""
    return request.state.portal_session


def csrf_token(request: Request) -> str:
    session = portal_session(request)
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = portal_session(request).get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed("the form's security token is missing or does not match")


def content_security_policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'", f"script-src 'self' 'nonce-{nonce}'", "style-src 'self'",
        "img-src 'self' data:", f"font-src 'self' {FONT_HOST}", "connect-src 'self'",
        "form-action 'self'", "frame-ancestors 'none'", "base-uri 'self'",
        "object-src 'none'"))


def secure_cookies(settings: Settings) -> bool:
    """Secure cookies everywhere except a demo or test served over plain http."""
    plain_http = settings.public_base_url.startswith("http://")
    return not (plain_http and settings.environment in (Environment.DEMO, Environment.TEST))


def session_reader(settings: Settings) -> Callable[[str | None], dict[str, Any]]:
    """Reads a session cookie's data: {} unless its signature verifies and it is fresh."""
    serializer = URLSafeTimedSerializer(settings.secret_key, salt="cdip.portal.session")

    def read(cookie: str | None) -> dict[str, Any]:
        if not cookie:
            return {}
        try:
            data = serializer.loads(cookie, max_age=COOKIE_MAX_AGE_S)
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else {}

    return read


class PortalSecurityMiddleware:
    """Loads and saves the session cookie, and adds the security headers, on portal paths;
    other paths (the JSON API) pass straight through untouched (plain ASGI, no overhead)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self._serializer = URLSafeTimedSerializer(settings.secret_key,
                                                  salt="cdip.portal.session")
        self._load = session_reader(settings)
        self._secure = secure_cookies(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NOT_PORTAL):
            await self.app(scope, receive, send)
            return
        loaded = self._load(Request(scope).cookies.get(COOKIE_NAME))
        before = json.dumps(loaded, sort_keys=True)
        nonce = secrets.token_urlsafe(16)
        state = scope.setdefault("state", {})
        state.update(portal_session=loaded, csp_nonce=nonce)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _add_headers(headers, nonce, scope["path"])
                if json.dumps(loaded, sort_keys=True) != before:
                    headers.append("set-cookie", self._cookie(loaded))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie(self, data: dict[str, Any]) -> str:
        carrier = Response()
        carrier.set_cookie(COOKIE_NAME, self._serializer.dumps(data), max_age=COOKIE_MAX_AGE_S,
                           path="/", httponly=True, samesite="lax", secure=self._secure)
        return carrier.headers["set-cookie"]


def _add_headers(headers: MutableHeaders, nonce: str, path: str) -> None:
    headers["Content-Security-Policy"] = content_security_policy(nonce)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    if not path.startswith(("/assets", "/static")):
        headers["Cache-Control"] = "no-store"
