"""Telling us what you need for your visit: an interpreter (which language), step-free
access, a hoist, hospital transport, and for an intimate examination a chaperone. One page
of checkboxes, recorded by booking_api where the rules and the clerks read it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.needs.flows import NeedsRefused, needs_on_record, record_needs
from domain.patient_needs import MAX_LANGUAGE_LENGTH, PatientNeeds
from patient_portal.forms import Errors, FormData, posted_form, text_fields, text_of
from patient_portal.once import submit_once
from patient_portal.rendering import render
from patient_portal.signed_in import PortalPatient, SignedInPatient
from patient_portal.views.common import database, see_other, tell_next_page

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]
NONE = "none"
RECORDED = "Thank you. We have recorded what you need for your visit."


@router.get("/your-needs", response_class=HTMLResponse)
def needs_page(request: Request, patient: SignedInPatient) -> Response:
    on_record = _on_record(request, patient)
    if on_record is None:
        return see_other("/home")
    needs = on_record.needs
    chosen = [code for code, wanted in (
        ("interpreter", needs.interpreter_language is not None), ("step-free", needs.step_free),
        ("hoist", needs.hoist), ("transport", needs.transport),
        ("chaperone", needs.chaperone and on_record.chaperone_offered)) if wanted]
    return _page(request, on_record.chaperone_offered,
                 {"needs": chosen, "language": needs.interpreter_language or ""}, {})


@router.post("/your-needs", response_class=HTMLResponse)
def tell_us(request: Request, patient: SignedInPatient, form: Form) -> Response:
    on_record = _on_record(request, patient)
    if on_record is None:
        return see_other("/home")
    answer = read_needs(form, on_record.chaperone_offered)
    if isinstance(answer, dict):
        values = {"needs": _chosen(form), "language": text_of(form, "interpreter-language")}
        return _page(request, on_record.chaperone_offered, values, answer)
    return submit_once(request, patient, text_fields(form), success="/home",
                       action=lambda: _record(request, patient, answer))


def read_needs(form: FormData, chaperone_offered: bool) -> PatientNeeds | Errors:
    """The needs ticked, or the errors naming the field at fault."""
    chosen = set(_chosen(form))
    allowed = {"interpreter", "step-free", "hoist", "transport", NONE}
    allowed |= {"chaperone"} if chaperone_offered else set()
    if not chosen or not chosen <= allowed:
        return {"needs": "Select what you need, or select that you do not need any of these"}
    if NONE in chosen and len(chosen) > 1:
        return {"needs": "Select what you need, or select that you do not need any of these, "
                         "not both"}
    language = text_of(form, "interpreter-language").strip()
    if "interpreter" in chosen and not language:
        return {"interpreter-language": "Enter the language you need an interpreter for"}
    if len(language) > MAX_LANGUAGE_LENGTH:
        return {"interpreter-language":
                f"Language must be {MAX_LANGUAGE_LENGTH} characters or fewer"}
    return PatientNeeds(interpreter_language=language if "interpreter" in chosen else None,
                        step_free="step-free" in chosen, hoist="hoist" in chosen,
                        transport="transport" in chosen, chaperone="chaperone" in chosen)


def _record(request: Request, patient: PortalPatient, needs: PatientNeeds) -> Response:
    try:
        recorded = record_needs(database(request), patient.patient_id, patient.request_id,
                                needs, patient.principal.actor)
    except NeedsRefused:
        return see_other("/home")
    notice = RECORDED
    if recorded.site_lacks:
        notice += (f" {recorded.site_name}, where your appointment is, does not have "
                   f"{' or '.join(recorded.site_lacks)}. Change your appointment to a place "
                   "that has what you need.")
    tell_next_page(request, notice)
    return see_other("/home")


def _on_record(request: Request, patient: PortalPatient) -> Any:
    try:
        return needs_on_record(database(request), patient.patient_id, patient.request_id)
    except NeedsRefused:
        return None


def _chosen(form: FormData) -> list[str]:
    raw = form.get("needs", [])
    return [raw] if isinstance(raw, str) else list(raw)


def _page(request: Request, chaperone_offered: bool, values: dict[str, Any],
          errors: Errors) -> Response:
    return render(request, "portal/needs.jinja", {
        "chaperone_offered": chaperone_offered, "values": values,
        "max_language": MAX_LANGUAGE_LENGTH}, errors=errors)
