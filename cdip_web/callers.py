"""Which overload lane a request goes in (`booking_api.api.overload`): callers who show a
validly signed session, staff or patient, as a bearer token or in a page package's cookie
(the portal's or the staff console's), go in the signed-in lane; everyone else in the
anonymous one. Decided from the headers alone, with one HMAC check and no database: a revoked
or expired session still gets the signed-in lane, and its route then refuses it as usual."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

from starlette.types import Scope

from booking_api.access.tokens import token_kind
from booking_api.core.config import Settings
from pages_common.security import session_reader
from patient_portal.security import PORTAL_COOKIE
from staff_console.security import STAFF_COOKIE

PAGE_COOKIES = (PORTAL_COOKIE, STAFF_COOKIE)


def signed_in_caller(settings: Settings) -> Callable[[Scope], bool]:
    """A test of a request's scope: does it carry a validly signed session?"""
    secret = settings.secret_key
    readers = [(cookie.name, session_reader(settings, cookie)) for cookie in PAGE_COOKIES]

    def is_signed_in(scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token_kind(secret, token.strip()):
                    return True
            elif name == b"cookie":
                for cookie_name, read_session in readers:
                    token = read_session(_cookie(value, cookie_name)).get("token")
                    if isinstance(token, str) and token_kind(secret, token):
                        return True
        return False

    return is_signed_in


def _cookie(header: bytes, name: str) -> str | None:
    try:
        morsel = SimpleCookie(header.decode("latin-1")).get(name)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None
