"""An offer of an earlier time, reached by the signed link in its text or email: the page
shows it (a link scanner's GET changes nothing) and only its button (a POST, with the form's
CSRF token) takes it. No sign-in: the signed link is the patient's key to this one offer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.backfill import flows, read_models
from booking_api.backfill.links import offer_of_token
from booking_api.core.app_state import settings_of
from booking_api.core.errors import NotFound
from patient_portal.forms import FormData, posted_form
from patient_portal.rendering import render
from patient_portal.signed_in import now_of
from patient_portal.views.common import database

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=8, max_length=400)]
Form = Annotated[FormData, Depends(posted_form)]
HEADINGS = {"booked": "Your new appointment is booked",
            "already_booked": "You have already taken this appointment",
            "gone": "Sorry, this appointment has gone", "expired": "Sorry, this offer has expired",
            "declined": "You said no to this offer", "closed": "This offer is no longer open",
            "refused": "Sorry, we could not book this appointment"}


@router.get("/offers/{token}", response_class=HTMLResponse)
def show(request: Request, token: Token) -> Response:
    try:
        view = read_models.offer_view(database(request), _secret(request), token,
                                      now_of(request))
    except NotFound:
        return _not_ours(request)
    return render(request, "portal/offer.jinja", {"offer": view, "token": token})


@router.post("/offers/{token}", response_class=HTMLResponse)
def take(request: Request, token: Token, form: Form) -> Response:
    try:
        offer_id = offer_of_token(_secret(request), token)
        answer = flows.accept_offer(database(request), offer_id, channel="portal",
                                    now=now_of(request))
    except NotFound:
        return _not_ours(request)
    return render(request, "portal/message.jinja", {
        "heading": HEADINGS[answer.outcome.value], "lines": [answer.message],
        "link": {"href": "/", "text": "Sign in to see your appointment"}})


def _secret(request: Request) -> str:
    return settings_of(request.app).secret_key


def _not_ours(request: Request) -> Response:
    return render(request, "portal/message.jinja", {
        "heading": "This link does not work",
        "lines": ["Check that you copied the whole link from your text or email. Nothing has "
                  "been changed."], "link": None}, status=404)
