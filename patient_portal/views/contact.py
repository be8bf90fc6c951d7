"""Your contact details: the mobile number and email address our messages use, each changed
only through a one-time code sent to the new address (booking_api.contact), and how the
patient wants to hear from us (text, email, both, or letters only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.contact.flows import (
    ContactPreference,
    ContactRefused,
    MessageChannel,
    confirm_code,
    contact_details,
    set_preference,
    start_check,
)
from booking_api.core.app_state import settings_of
from patient_portal.forms import FormData, posted_form, text_fields, text_of
from patient_portal.once import submit_once
from patient_portal.rendering import render
from patient_portal.security import portal_session
from patient_portal.signed_in import PortalPatient, SignedInPatient, now_of
from patient_portal.views.common import database, notice_for_this_page, see_other, tell_next_page

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]
HOME = "/contact-details"
ADDRESSES = {"mobile": MessageChannel.SMS, "email": MessageChannel.EMAIL}
PREFERENCES = (("sms", "By text message"), ("email", "By email"),
               ("both", "By text message and email"), ("none", "By letter only"))
SAVED = {MessageChannel.SMS: "Your mobile number has been saved.",
         MessageChannel.EMAIL: "Your email address has been saved."}


@router.get(HOME, response_class=HTMLResponse)
def details_page(request: Request, patient: SignedInPatient) -> Response:
    details = contact_details(database(request), patient.patient_id)
    return render(request, "portal/contact/details.jinja", {
        "details": details, "preference": dict(PREFERENCES)[details.preference.value],
        "notice": notice_for_this_page(request)})


@router.get(HOME + "/{kind}", response_class=HTMLResponse)
def address_page(request: Request, kind: str, patient: SignedInPatient) -> Response:
    if kind == "preference":
        details = contact_details(database(request), patient.patient_id)
        return _preference(request, details.preference.value, {})
    if kind == "code":
        return _code(request, {})
    if kind not in ADDRESSES:
        return see_other(HOME)
    return _address(request, kind, "", {})


@router.post(HOME + "/preference", response_class=HTMLResponse)
def choose_preference(request: Request, patient: SignedInPatient, form: Form) -> Response:
    chosen = text_of(form, "preference")
    if chosen not in dict(PREFERENCES):
        return _preference(request, None,
                           {"preference": "Select how you want us to contact you"})
    try:
        set_preference(database(request), patient.patient_id, ContactPreference(chosen),
                       patient.principal.actor)
    except ContactRefused as refused:
        return _preference(request, chosen, {refused.field: str(refused)})
    tell_next_page(request, "How we contact you has been saved.")
    return see_other(HOME)


@router.post(HOME + "/code", response_class=HTMLResponse)
def enter_code(request: Request, patient: SignedInPatient, form: Form) -> Response:
    check = portal_session(request).get("contact_check")
    if not check:
        return see_other(HOME)
    try:
        channel = confirm_code(database(request), patient.patient_id, int(check["id"]),
                               text_of(form, "code"), now_of(request), patient.principal.actor)
    except ContactRefused as refused:
        return _code(request, {refused.field: str(refused)})
    portal_session(request).pop("contact_check", None)
    tell_next_page(request, SAVED[channel])
    return see_other(HOME)


@router.post(HOME + "/{kind}", response_class=HTMLResponse)
def give_address(request: Request, kind: str, patient: SignedInPatient, form: Form) -> Response:
    if kind not in ADDRESSES:
        return see_other(HOME)
    text = text_of(form, kind)
    return submit_once(request, patient, text_fields(form), success=HOME + "/code",
                       action=lambda: _send_code(request, patient, kind, text))


def _send_code(request: Request, patient: PortalPatient, kind: str, text: str) -> Response:
    try:
        check_id = start_check(
            database(request), patient.patient_id, ADDRESSES[kind], text, now_of(request),
            patient.principal.actor,
            fictional_numbers=settings_of(request.app).sms_fictional_numbers)
    except ContactRefused as refused:
        return _address(request, kind, text, {refused.field: str(refused)})
    portal_session(request)["contact_check"] = {"id": check_id, "kind": kind}
    return see_other(HOME + "/code")


def _address(request: Request, kind: str, value: str, errors: dict[str, str]) -> Response:
    return render(request, "portal/contact/address.jinja",
                  {"kind": kind, "value": value}, errors=errors)


def _code(request: Request, errors: dict[str, str]) -> Response:
    check: dict[str, Any] | None = portal_session(request).get("contact_check")
    if not check:
        return see_other(HOME)
    return render(request, "portal/contact/code.jinja", {"kind": check["kind"]},
                  errors=errors)


def _preference(request: Request, chosen: str | None, errors: dict[str, str]) -> Response:
    return render(request, "portal/contact/preference.jinja",
                  {"chosen": chosen, "preferences": PREFERENCES}, errors=errors)
