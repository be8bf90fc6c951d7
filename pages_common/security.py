"""Page protections: a signed session cookie (HttpOnly, SameSite=Lax, Secure unless the
service runs on plain http for a demo or test), a per-response Content-Security-Policy with a
script nonce and the other security headers, and CSRF tokens checked on every form.

Each page package mounts one `PageSecurityMiddleware` over its own paths with its own cookie
(name, salt, path, lifetime), so a patient's cookie is never sent to, nor read by, the staff
pages. The session holds only what the pages need between requests; nothing personal is
ever put in a URL."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_api.core.config import Environment, Settings

FONT_HOST = "https://assets.nhs.uk"
"""NHS.UK frontend's stylesheet loads the Frutiger web fonts from here."""


class CsrfFailed(Exception):
    """A form arrived without the token this browser's session was given."""


@dataclass(frozen=True)
class SessionCookie:
    """Which cookie a page package keeps its session in, and for how long."""

    name: str
    salt: str
    max_age_s: int
    path: str = "/"


def page_session(request: Request) -> dict[str, Any]:
    """This browser's session data (a dict the middleware saves after the response)."""
    return request.state.page_session


def csrf_token(request: Request) -> str:
    session = page_session(request)
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = page_session(request).get("csrf")
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


def session_reader(settings: Settings, cookie: SessionCookie
                   ) -> Callable[[str | None], dict[str, Any]]:
    """Reads a session cookie's data: {} unless its signature verifies and it is fresh."""
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=cookie.salt)

    def read(value: str | None) -> dict[str, Any]:
        if not value:
            return {}
        try:
            data = serializer.loads(value, max_age=cookie.max_age_s)
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else {}

    return read


class PageSecurityMiddleware:
    """Loads and saves one session cookie, and adds the security headers, on the paths
    `covers` admits; other paths pass straight through untouched (plain ASGI)."""

    def __init__(self, app: ASGIApp, settings: Settings, cookie: SessionCookie,
                 covers: Callable[[str], bool]) -> None:
        self.app = app
        self._cookie_spec = cookie
        self._covers = covers
        self._serializer = URLSafeTimedSerializer(settings.secret_key, salt=cookie.salt)
        self._load = session_reader(settings, cookie)
        self._secure = secure_cookies(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._covers(scope["path"]):
            await self.app(scope, receive, send)
            return
        loaded = self._load(Request(scope).cookies.get(self._cookie_spec.name))
        before = json.dumps(loaded, sort_keys=True)
        nonce = secrets.token_urlsafe(16)
        state = scope.setdefault("state", {})
        state.update(page_session=loaded, csp_nonce=nonce)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                add_security_headers(headers, nonce, scope["path"])
                if json.dumps(loaded, sort_keys=True) != before:
                    headers.append("set-cookie", self._cookie(loaded))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie(self, data: dict[str, Any]) -> str:
        spec = self._cookie_spec
        carrier = Response()
        carrier.set_cookie(spec.name, self._serializer.dumps(data), max_age=spec.max_age_s,
                           path=spec.path, httponly=True, samesite="lax", secure=self._secure)
        return carrier.headers["set-cookie"]


def add_security_headers(headers: MutableHeaders, nonce: str, path: str) -> None:
    headers["Content-Security-Policy"] = content_security_policy(nonce)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    if "/static/" not in path and not path.startswith("/assets"):
        headers["Cache-Control"] = "no-store"


ErrorPage = Callable[[Request, Exception], Response]


def on_page_error(app: Any, error: type[Exception], prefix: str, page: ErrorPage) -> None:
    """Answer `error` raised under `prefix` with `page`: each page package shows its own
    page for a failed CSRF check or an unreadable form; the longest matching prefix wins."""
    registry: dict[type[Exception], dict[str, ErrorPage]] = (
        getattr(app.state, "page_error_pages", None) or {})
    pages = registry.setdefault(error, {})
    pages[prefix] = page
    app.state.page_error_pages = registry

    def dispatch(request: Request, raised: Exception) -> Response:
        path = request.url.path
        chosen = max((p for p in pages if path.startswith(p)), key=len, default=prefix)
        return pages[chosen](request, raised)

    app.add_exception_handler(error, dispatch)
