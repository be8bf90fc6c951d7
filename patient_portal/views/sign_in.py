"""The start page, sign-in with booking reference and date of birth (rate limited, one
generic failure, both from booking_api.access), sign-out and the accessibility statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.access import flows as access
from booking_api.access.clients import client_address
from booking_api.access.policy import DEFAULT_POLICY
from booking_api.access.rate_limit import TooManyAttempts
from booking_api.access.services import (
    PATIENT_SIGN_IN_FAILED,
    BadBookingReference,
    SignInContext,
)
from booking_api.appointments.journey import HOLD_EXTENSIONS_ALLOWED
from booking_api.core.app_state import settings_of
from booking_api.requests.booking_reference import EXAMPLE
from booking_api.requests.services import today_in_london
from patient_portal.forms import FormData, SignIn, posted_form, read_sign_in, text_fields
from patient_portal.rendering import render
from patient_portal.signed_in import (
    SignedInPatient,
    journey,
    now_of,
    sign_in_browser,
    sign_out_browser,
)
from patient_portal.views.common import (
    booking_of,
    database,
    notice_for_this_page,
    see_other,
    tell_next_page,
)

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]


@router.get("/", response_class=HTMLResponse)
def start(request: Request) -> Response:
    return render(request, "portal/start.jinja", {"notice": notice_for_this_page(request)})


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return render(request, "portal/sign_in.jinja", {"values": {}, "example_reference": EXAMPLE})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, form: Form) -> Response:
    answer = read_sign_in(form, today_in_london())
    if isinstance(answer, SignIn):
        answer = _check_credentials(request, answer)
    if isinstance(answer, dict):
        values = {k: v for k, v in text_fields(form).items() if k != "csrf_token"}
        return render(request, "portal/sign_in.jinja",
                      {"values": values, "example_reference": EXAMPLE}, errors=answer)
    sign_in_browser(request, answer)
    return see_other("/home")


@router.get("/home")
def home(request: Request, patient: SignedInPatient) -> Response:
    """Where a signed-in patient starts: their appointment if booked, else the booking."""
    booking = booking_of(request, patient)
    journey(request).clear()
    return see_other("/appointment" if booking.appointment else "/your-test")


@router.post("/sign-out")
def sign_out(request: Request, _form: Form) -> Response:
    """Signing out is a form (POST, with the CSRF token): a link could be followed by a
    prefetch or another site and sign the patient out behind their back."""
    sign_out_browser(request)
    tell_next_page(request, "You have signed out.")
    return see_other("/")


@router.get("/sign-out", response_class=HTMLResponse)
def sign_out_page(request: Request) -> Response:
    """An old link or bookmark to sign-out: the button that does it (a GET changes nothing)."""
    return render(request, "portal/sign_out.jinja")


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(request: Request) -> Response:
    return render(request, "portal/accessibility.jinja", {
        "hold_minutes": request.app.state.settings.hold_minutes,
        "most_extensions": HOLD_EXTENSIONS_ALLOWED})


def _check_credentials(request: Request, answer: SignIn) -> str | dict[str, str]:
    """The patient's token, or the error to show against the reference field."""
    context = SignInContext(settings_of(request.app).secret_key,
                            getattr(request.app.state, "access_policy", DEFAULT_POLICY),
                            client_address(request),
                            now_of(request))
    try:
        token = access.sign_in_patient(database(request), context, answer.booking_reference,
                                       answer.date_of_birth)
    except BadBookingReference as bad:
        return {"booking-reference": str(bad)}
    except TooManyAttempts as limited:
        return {"booking-reference": str(limited)}
    if token is None:
        return {"booking-reference": PATIENT_SIGN_IN_FAILED}
    return token.access_token


