"""ServiceRequest create: the FHIR way in for orders. The placer order number is the
identifier whose system is the placer's (any system but ours); the patient is a contained
UK Core Patient (NHS number in `identifier`, name, birth date, postcode); the exam is
`code.coding` (NICIP, SNOMED CT, or the placer's local system); `priority` routine, urgent,
asap or stat; `requester.display` the referrer; `note` the clinical question. The order then
goes where an HL7 order goes (`interop.orders`)."""

from __future__ import annotations

from typing import Any

from booking_api.interop.fhir.outcome import FhirError
from booking_api.interop.fhir.resources import (
    BOOKING_REFERENCE_SYSTEM,
    NHS_NUMBER_SYSTEM,
    NICIP_SYSTEM,
)
from booking_api.interop.incoming import IncomingOrder, OrderCode, OrderControl, code_system_of
from booking_api.patients.identity import PatientDetails
from domain.nhs_number import InvalidNhsNumber, normalise_nhs_number
from domain.vocabulary import Priority

PRIORITY_OF = {"routine": Priority.ROUTINE, "urgent": Priority.URGENT,
               "asap": Priority.TWO_WEEK_WAIT, "stat": Priority.URGENT}
SYSTEM_OF_URI = {NICIP_SYSTEM: "NICIP", "http://snomed.info/sct": "SNOMED"}


def order_from_service_request(resource: Any, placer_system: str) -> IncomingOrder:
    """A validated ServiceRequest (fhir.resources model) as an incoming new order."""
    if resource.status not in ("active", "draft"):
        raise FhirError(422, "ServiceRequest.status", "a new order must be 'active'")
    if resource.priority is not None and resource.priority not in PRIORITY_OF:
        raise FhirError(400, "ServiceRequest.priority", f"priority '{resource.priority}' is "
                        f"not one of {', '.join(PRIORITY_OF)}", "code-invalid")
    if resource.intent not in ("order", "original-order"):
        raise FhirError(422, "ServiceRequest.intent", "intent must be 'order'")
    placer_number = next((i.value for i in resource.identifier or []
                          if i.system != BOOKING_REFERENCE_SYSTEM and i.value), None)
    if not placer_number:
        raise FhirError(422, "ServiceRequest.identifier",
                        "the placer's order number is required (an identifier)")
    coding = next((c for c in (resource.code.coding if resource.code else None) or []
                   if c.code), None)
    if coding is None:
        raise FhirError(422, "ServiceRequest.code.coding", "the exam's code is required")
    system = SYSTEM_OF_URI.get(coding.system or "", coding.system or "")
    return IncomingOrder(
        control=OrderControl.NEW, placer_system=placer_system,
        placer_order_number=placer_number, patient=_patient(resource),
        code=OrderCode(code_system_of(system, placer_system), coding.code, coding.display),
        priority=PRIORITY_OF.get(resource.priority or "routine", Priority.ROUTINE),
        referrer=(resource.requester.display if resource.requester and
                  resource.requester.display else placer_system)[:200],
        clinical_question=(resource.note[0].text if resource.note else None),
        ordered_at=resource.authoredOn if hasattr(resource.authoredOn, "tzinfo") else None)


def _patient(resource: Any) -> PatientDetails:
    reference = resource.subject.reference if resource.subject else None
    contained = {f"#{c.id}": c for c in resource.contained or []
                 if c.get_resource_type() == "Patient"}
    patient = contained.get(reference or "")
    if patient is None:
        raise FhirError(422, "ServiceRequest.subject", "the subject must reference a contained "
                        "Patient ('#id') with the patient's NHS number, name and birth date")
    name = (patient.name or [None])[0]
    given = next((g for g in (name.given or []) if g and g.strip()), None) if name else None
    if name is None or not (name.family or "").strip() or given is None:
        raise FhirError(422, "Patient.name", "the patient's family and given names are "
                        "required")
    if patient.birthDate is None:
        raise FhirError(422, "Patient.birthDate", "the patient's birth date is required")
    return PatientDetails(
        given_name=given, family_name=name.family, date_of_birth=patient.birthDate,
        postcode=next((a.postalCode for a in patient.address or [] if a.postalCode), None),
        nhs_number=_nhs_number(patient),
        phone=next((t.value for t in patient.telecom or [] if t.system == "phone"), None),
        email=next((t.value for t in patient.telecom or [] if t.system == "email"), None))


def _nhs_number(patient: Any) -> str | None:
    for identifier in patient.identifier or []:
        if identifier.system == NHS_NUMBER_SYSTEM:
            try:
                return normalise_nhs_number(identifier.value or "")
            except InvalidNhsNumber as error:
                raise FhirError(422, "Patient.identifier", str(error)) from error
    return None
