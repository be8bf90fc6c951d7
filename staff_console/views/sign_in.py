"""Signing in with a staff account (rate limited and audited by booking_api.access, one
message for every failure), signing out by POST, staying signed in when warned, and the
console's home, which sends each role to its own work."""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.access import flows as access
from booking_api.access.clients import client_address
from booking_api.access.passwords import HashingBusy
from booking_api.access.policy import DEFAULT_POLICY
from booking_api.access.rate_limit import TooManyAttempts
from booking_api.access.services import STAFF_SIGN_IN_FAILED, SignInContext
from booking_api.core.app_state import settings_of
from pages_common.forms import text_of
from staff_console.rendering import render
from staff_console.signed_in import (
    NotSignedIn,
    current_staff,
    notice_for_this_page,
    now_of,
    sign_in_browser,
    sign_out_browser,
    tell_next_page,
)
from staff_console.views.common import AnyStaff, Form, database, see_other

router = APIRouter(prefix="/staff", include_in_schema=False)
HOME_OF = {"vetting": "/staff/vetting"}
MAX_USERNAME, MAX_PASSWORD, MAX_CODE = 100, 1024, 8


@router.get("")
def home(staff: AnyStaff) -> Response:
    return see_other(HOME_OF.get(staff.role, "/staff/worklist"))


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return render(request, "staff/sign_in.jinja",
                  {"values": {}, "notice": notice_for_this_page(request)})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, form: Form) -> Response:
    username = text_of(form, "username").strip()
    password = text_of(form, "password")
    code = text_of(form, "one_time_code").strip().replace(" ", "")
    errors = {}
    if not username:
        errors["username"] = "Enter your username"
    elif len(username) > MAX_USERNAME:
        errors["username"] = f"Username must be {MAX_USERNAME} characters or fewer"
    if not password:
        errors["password"] = "Enter your password"
    elif len(password) > MAX_PASSWORD:
        errors["password"] = f"Password must be {MAX_PASSWORD} characters or fewer"
    if code and (len(code) > MAX_CODE or not code.isdigit()):
        errors["one_time_code"] = "Enter the 6 digits your authenticator app shows"
    if not errors:
        outcome = _check(request, username, password, code or None)
        if isinstance(outcome, str):
            sign_in_browser(request, outcome)
            return see_other("/staff")
        errors = outcome
    return render(request, "staff/sign_in.jinja", {"values": {"username": username}},
                  errors=errors, status=400)


@router.post("/sign-out")
def sign_out(request: Request, _form: Form) -> Response:
    """Ends the sign-in on the server too: a kept copy of the cookie no longer works."""
    # already signed out, timed out or never fully signed in: the browser's session is
    # cleared below either way
    with suppress(NotSignedIn):
        access.sign_out_staff(database(request),
                              current_staff(request, setting_up=True).principal,
                              now_of(request))
    sign_out_browser(request)
    tell_next_page(request, "You have signed out.")
    return see_other("/staff/sign-in")


@router.post("/session")
def stay_signed_in(request: Request, form: Form) -> Response:
    """'Stay signed in' when warned: using the console again restarts the idle time."""
    current_staff(request)
    back = text_of(form, "return")
    return see_other(back if back.startswith("/staff/") and "//" not in back else "/staff")


def _check(request: Request, username: str, password: str,
           code: str | None) -> str | dict[str, str]:
    context = SignInContext(settings_of(request.app).secret_key,
                            getattr(request.app.state, "access_policy", DEFAULT_POLICY),
                            client_address(request), now_of(request))
    try:
        token = access.sign_in_staff(database(request), context, username, password, code)
    except TooManyAttempts as limited:
        return {"username": str(limited)}
    except HashingBusy:
        return {"username": "The service is busy. Try again in a few seconds."}
    if token is None:
        return {"username": STAFF_SIGN_IN_FAILED}
    return token.access_token
