"""Who is signed in to the console: the staff token kept in the console's session (issued
by `booking_api.access` at sign-in), checked on every page together with the role the page
needs. A session unused for IDLE_TIMEOUT ends (the page warns before it does); a patient's
token can never pass (its signature is of another kind, and the portal's cookie is not sent
to /staff)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Depends, Request

from booking_api.access.flows import staff_of_token
from booking_api.access.policy import DEFAULT_POLICY
from booking_api.access.principals import StaffPrincipal
from booking_api.audit.services import Actor
from booking_api.core.app_state import app_now, database_of, settings_of
from pages_common.security import page_session

IDLE_TIMEOUT = timedelta(minutes=20)
SIGNED_OUT_IDLE = ("You were signed out because the console was not used for 20 minutes. "
                   "Sign in again to carry on.")
SIGNED_OUT_CHANGED = "Your session has ended. Sign in again to carry on."
SECOND_FACTOR_FIRST = ("Your role needs two-step sign-in, which your account has not set up "
                       "yet. Set it up here before you carry on.")
CLERKS = ("clerk", "manager", "admin")
EVERY_ROLE = ("clerk", "vetting", "manager", "admin")
"""Staff account roles (booking_api.access), by their codes."""


class NotSignedIn(Exception):
    """No valid staff session; the message is for the member of staff."""


class NotAllowed(Exception):
    """Signed in, but the page needs another role; the message names them."""


class SecondFactorNeeded(Exception):
    """Signed in with a role that needs two-step sign-in, not yet set up: only the page that
    sets it up (and signing out) may serve them."""


@dataclass(frozen=True)
class ConsoleStaff:
    principal: StaffPrincipal

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def actor(self) -> Actor:
        return self.principal.actor

    @property
    def subject(self) -> str:
        return self.principal.subject

    @property
    def name(self) -> str:
        return self.principal.display_name


def now_of(request: Request) -> datetime:
    return app_now(request.app)


def sign_in_browser(request: Request, token: str) -> None:
    """A fresh session for this member of staff (whatever the browser held is dropped)."""
    session = page_session(request)
    csrf = session.get("csrf")
    session.clear()
    session.update(token=token, csrf=csrf, seen=now_of(request).timestamp())


def sign_out_browser(request: Request) -> None:
    page_session(request).clear()


def tell_next_page(request: Request, text: str) -> None:
    page_session(request)["notice"] = text


def notice_for_this_page(request: Request) -> str | None:
    return page_session(request).pop("notice", None)


def session_ends_at(request: Request) -> datetime:
    return now_of(request) + IDLE_TIMEOUT


def current_staff(request: Request, *, setting_up: bool = False) -> ConsoleStaff:
    """The signed-in member of staff (NotSignedIn otherwise); marks the session as used.
    A role that needs a second factor not yet set up gets SecondFactorNeeded, unless the
    page is the one that sets it up (`setting_up`)."""
    session = page_session(request)
    token = session.get("token")
    if not token:
        raise NotSignedIn("Sign in to use the staff console.")
    now = now_of(request)
    seen = session.get("seen")
    if not isinstance(seen, int | float) or now.timestamp() - seen > IDLE_TIMEOUT.total_seconds():
        sign_out_browser(request)
        raise NotSignedIn(SIGNED_OUT_IDLE)
    principal = staff_of_token(database_of(request.app), settings_of(request.app).secret_key,
                               token, now, getattr(request.app.state, "access_policy",
                                                   DEFAULT_POLICY))
    if principal is None:
        sign_out_browser(request)
        raise NotSignedIn(SIGNED_OUT_CHANGED)
    if principal.second_factor_missing and not setting_up:
        raise SecondFactorNeeded(SECOND_FACTOR_FIRST)
    session["seen"] = now.timestamp()
    return ConsoleStaff(principal)


def staff_setting_up(request: Request) -> ConsoleStaff:
    """Any signed-in member of staff, second factor or not: for their own account's page."""
    return current_staff(request, setting_up=True)


def staff_with(*roles: str) -> Callable[[Request], ConsoleStaff]:
    """A dependency admitting signed-in staff holding one of `roles`."""
    allowed = ", ".join(str(role) for role in roles)

    def dependency(request: Request) -> ConsoleStaff:
        staff = current_staff(request)
        if staff.role not in roles:
            raise NotAllowed(f"This page is for these roles: {allowed}. You are signed in "
                             f"as {staff.role}.")
        return staff

    return Depends(dependency)
