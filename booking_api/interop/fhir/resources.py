"""Our rows as FHIR R4 resources (UK Core profiles), each validated with fhir.resources
before it leaves (its R4B models: Appointment, Slot, Schedule, Patient, ServiceRequest and
Task are R4's there), except Slot: a search sends up to 500, and validating each cost more
than the query, so its one fixed shape is validated by the tests, over every status and
modality. Ids: Patient/{patient id}, ServiceRequest/{request id},
Appointment/{appointment id}, Slot/{slot id}, Schedule/{room id}."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.servicerequest import ServiceRequest as FhirServiceRequest
from fhir.resources.R4B.task import Task as FhirTask

from booking_api.appointments.models import Appointment
from booking_api.interop.status_events import Snapshot, StatusEvent
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.slots.models import Slot

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
NICIP_SYSTEM = "https://www.nicip.nhs.uk"  # the exam catalogue's codes (NICIP-style)
BOOKING_REFERENCE_SYSTEM = "https://cdip.example.nhs.uk/Id/booking-reference"
PLACER_SYSTEM = "https://cdip.example.nhs.uk/Id/placer-order/"
MODALITY_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
PRIORITY_OF = {"two_week_wait": "asap", "urgent": "urgent", "routine": "routine",
               "planned": "routine"}
REQUEST_STATUS = {"received": "active", "justified": "active", "waiting": "on-hold",
                  "appointable": "active", "appointed": "active", "rejected": "revoked",
                  "cancelled": "revoked", "dna": "on-hold", "attended": "completed",
                  "acquired": "completed", "reported": "completed", "amended": "completed"}
TASK_STATUS = {"received": "received", "justified": "accepted", "waiting": "on-hold",
               "appointable": "ready", "appointed": "in-progress", "rejected": "rejected",
               "cancelled": "cancelled", "dna": "on-hold", "attended": "completed",
               "acquired": "completed", "reported": "completed", "amended": "completed"}


def patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": str(patient.id),
        "meta": {"profile": [f"{UK_CORE}Patient"]},
        "name": [{"use": "official", "family": patient.family_name,
                  "given": [patient.given_name]}],
        "birthDate": patient.date_of_birth.isoformat()}
    if patient.nhs_number:
        resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": patient.nhs_number}]
    telecom = [{"system": "phone", "value": patient.phone, "use": "mobile"}] \
        if patient.phone else []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    postcode = patient.postcode or patient.postcode_district
    if postcode:
        resource["address"] = [{"postalCode": postcode}]
    return _valid(FhirPatient, resource)


def service_request_resource(request: Request, placer: tuple[str, str] | None,
                             exam_name: str) -> dict[str, Any]:
    identifiers = [{"system": BOOKING_REFERENCE_SYSTEM, "value": request.booking_reference}]
    if placer is not None:
        identifiers.append({"system": PLACER_SYSTEM + placer[0], "value": placer[1]})
    resource = {
        "resourceType": "ServiceRequest", "id": str(request.id),
        "meta": {"profile": [f"{UK_CORE}ServiceRequest"]}, "identifier": identifiers,
        "status": REQUEST_STATUS[str(request.state)], "intent": "order",
        "priority": PRIORITY_OF[str(request.priority)],
        "code": {"coding": [{"system": NICIP_SYSTEM, "code": request.exam_code,
                             "display": exam_name}]},
        "subject": {"reference": f"Patient/{request.patient_id}"},
        "authoredOn": _instant(request.received_at),
        "requester": {"display": request.referrer}}
    if request.clinical_question:
        resource["note"] = [{"text": request.clinical_question}]
    return _valid(FhirServiceRequest, resource)


def appointment_resource(appointment: Appointment, request_id: int) -> dict[str, Any]:
    state = appointment.state
    resource: dict[str, Any] = {
        "resourceType": "Appointment", "id": str(appointment.id),
        "meta": {"profile": [f"{UK_CORE}Appointment"]},
        "status": state.fhir_status,
        "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
        "slot": [{"reference": f"Slot/{appointment.slot_id}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{appointment.patient_id}"},
             "required": "required", "status": "accepted"},
            {"actor": {"reference": f"Location/{appointment.room_id}"},
             "required": "required", "status": "accepted"}]}
    if appointment.start_at and appointment.end_at:
        resource["start"] = _instant(appointment.start_at)
        resource["end"] = _instant(appointment.end_at)
    if appointment.created_at:
        resource["created"] = _instant(appointment.created_at)
    if state.value in ("cancelled", "dna") and appointment.cancel_reason:
        resource["cancelationReason"] = {"text": appointment.cancel_reason}
    return _valid(FhirAppointment, resource)


def slot_resource(slot: Slot) -> dict[str, Any]:
    return {
        "resourceType": "Slot", "id": str(slot.id),
        "meta": {"profile": [f"{UK_CORE}Slot"]},
        "serviceType": [{"coding": [{"system": MODALITY_SYSTEM, "code": str(slot.modality)}]}],
        "schedule": {"reference": f"Schedule/{slot.room_id}"},
        "status": str(slot.status), "start": _instant(slot.start_at),
        "end": _instant(slot.end_at)}


def schedule_resource(room_id: str, room_name: str, site_id: str, modality: str,
                      site_name: str) -> dict[str, Any]:
    return _valid(FhirSchedule, {
        "resourceType": "Schedule", "id": room_id,
        "meta": {"profile": [f"{UK_CORE}Schedule"]}, "active": True,
        "serviceType": [{"coding": [{"system": MODALITY_SYSTEM, "code": modality}]}],
        "actor": [{"reference": f"Location/{room_id}", "display": f"{room_name}, {site_name}"}],
        "comment": f"site {site_id}"})


def task_resource(change: StatusEvent, shot: Snapshot) -> dict[str, Any]:
    """The status of a ServiceRequest for its placer (FHIR Task, focus = the request)."""
    return _valid(FhirTask, {
        "resourceType": "Task", "id": f"{shot.request_id}-{int(change.at.timestamp())}",
        "status": TASK_STATUS.get(shot.request_state, "in-progress"),
        "intent": "order",
        "focus": {"reference": f"ServiceRequest/{shot.request_id}"},
        "for": {"reference": f"Patient/{shot.patient_id}"},
        "identifier": [{"system": BOOKING_REFERENCE_SYSTEM,
                        "value": shot.booking_reference}],
        "businessStatus": {"text": change.kind},
        "lastModified": _instant(change.at),
        **({"statusReason": {"text": change.reason[:500]}} if change.reason else {})})


def _valid(model: Any, resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, once fhir.resources has accepted it (a ValidationError is our bug)."""
    model.model_validate(resource)
    return resource


def _instant(moment: datetime | date) -> str:
    return moment.isoformat()
