"""Setting up two-step sign-in from the console: the roles that need it (admin and manager by
default) are sent here after signing in, and anyone may come here from the header. Starting
offers a new key, shown once as a QR code and as text on the answer to the POST (never kept
in the cookie, a URL or a log); a code from the app turns it on. The booking service checks
the code, marks this sign-in as made with both factors and audits each step."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.access import flows as access
from booking_api.access.services import SecondFactorAlreadySet, WrongCode
from pages_common.forms import text_of
from staff_console.qr_code import key_in_groups, qr_svg
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, notice_for_this_page, now_of, tell_next_page
from staff_console.views.common import Form, OwnAccount, database, see_other

router = APIRouter(prefix="/staff/second-factor", include_in_schema=False)
CODE_LENGTH = 6
NO_STORE = {"Cache-Control": "no-store"}
"""The page showing a key must not be kept by the browser or anything between."""


@router.get("", response_class=HTMLResponse)
def second_factor_page(request: Request, staff: OwnAccount) -> Response:
    return _page(request, staff, stage="on" if _is_on(staff) else "start")


@router.post("/start", response_class=HTMLResponse)
def start(request: Request, staff: OwnAccount, _form: Form) -> Response:
    """A new key, pending until confirmed (starting again replaces it)."""
    try:
        enrolment = access.start_second_factor(database(request), staff.principal)
    except SecondFactorAlreadySet as already:
        return _page(request, staff, stage="on", errors={"start": f"{_sentence(already)}"},
                     status=409)
    response = _page(request, staff, stage="confirm", shown={
        "qr": qr_svg(enrolment.otpauth_uri, "QR code of your two-step sign-in key for an "
                     "authenticator app"),
        "key": key_in_groups(enrolment.secret)})
    response.headers.update(NO_STORE)
    return response


@router.post("/confirm", response_class=HTMLResponse)
def confirm(request: Request, staff: OwnAccount, form: Form) -> Response:
    code = text_of(form, "code").strip().replace(" ", "")
    if not code:
        problem = "Enter the 6-digit code your authenticator app shows"
    elif len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        problem = "The code must be 6 digits, like 123456"
    else:
        try:
            access.confirm_second_factor(database(request), staff.principal, code,
                                         now_of(request))
        except (WrongCode, SecondFactorAlreadySet) as refused:
            problem = _sentence(refused)
        else:
            tell_next_page(request, "Two-step sign-in is on. From now on, sign in with your "
                                    "password and a code from your authenticator app.")
            return see_other("/staff")
    return _page(request, staff, stage="confirm", errors={"code": problem}, status=400)


def _page(request: Request, staff: ConsoleStaff, *, stage: str,
          shown: dict[str, object] | None = None,
          errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "staff/second_factor.jinja", {
        "stage": stage, "required": staff.principal.second_factor_missing,
        "notice": notice_for_this_page(request), **(shown or {})},
        staff=staff, errors=errors, status=status)


def _is_on(staff: ConsoleStaff) -> bool:
    """Whether this account has a second factor (an account with one signs in with a code,
    and resetting it ends every sign-in)."""
    return staff.principal.second_factor


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:]
