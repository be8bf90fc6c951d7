"""Appointments through FHIR: create from a free slot (booked, or pending = a hold that
expires), cancel (only a booked or held one, with a reason), search, and the scheduling
operations: `$find` (proposed Appointments for a ServiceRequest from the slots the rules let
it take, across every site), `$hold` (a pending Appointment that lapses after the service's
hold time) and `$book` (a held Appointment booked, or a proposed one booked at once). Every
slot is taken through the appointment services, the one way the service takes slots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from booking_api.appointments import services
from booking_api.appointments.models import Appointment
from booking_api.audit.reads import PartRead, Reader, record_reads
from booking_api.audit.services import Actor
from booking_api.core.db import Database
from booking_api.core.inputs import date_problem
from booking_api.interop.fhir.outcome import FhirError
from booking_api.interop.fhir.parsing import int_id, reference_id
from booking_api.interop.fhir.resources import appointment_resource
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, search_slots
from domain.lifecycle import AppointmentState

STATE_OF_FHIR = {state.fhir_status: state for state in AppointmentState}
MAX_PROPOSALS = 200


def create_appointment(db: Database, appointment: Any, actor: Actor, now: datetime,
                       hold_minutes: int, hold: bool = False) -> dict[str, Any]:
    """Take the slot the Appointment names for the ServiceRequest it is based on."""
    status = "pending" if hold else appointment.status
    if status not in ("booked", "pending", "proposed"):
        raise FhirError(422, "Appointment.status", "a new Appointment must be 'booked' (book "
                        "now) or 'pending' (hold the slot)")
    slot_id, request_id = _slot_and_request(appointment)
    with db.transaction() as session:
        if status == "booked":
            made = services.book_slot(session, actor, request_id, slot_id, now=now,
                                      reason="booked through FHIR")
        else:
            made = services.hold_slot(session, actor, request_id, slot_id, now=now,
                                      hold_minutes=hold_minutes)
        return appointment_resource(made, request_id)


def book(db: Database, appointment: Any, actor: Actor, now: datetime,
         hold_minutes: int) -> dict[str, Any]:
    """$book: a held Appointment (by id) becomes booked; a proposed one is booked at once."""
    if appointment.id and appointment.id.isdigit():
        with db.transaction() as session:
            booked = services.book_hold(session, actor, int(appointment.id), now=now)
            return appointment_resource(booked, booked.request_id)
    appointment.status = "booked"
    return create_appointment(db, appointment, actor, now, hold_minutes)


def cancel_appointment(db: Database, appointment_id: int, appointment: Any, actor: Actor,
                       now: datetime) -> dict[str, Any]:
    """PUT with status cancelled: only booked or held appointments; a reason is required."""
    if appointment.id not in (None, str(appointment_id)):
        raise FhirError(400, "Appointment.id", "the body's id must be the URL's")
    if appointment.status != "cancelled":
        raise FhirError(422, "Appointment.status", "only cancelling is supported here: "
                        "status 'cancelled'; to move a booking, cancel it and book again")
    reason = appointment.cancelationReason.text if appointment.cancelationReason else None
    if not reason:
        raise FhirError(422, "Appointment.cancelationReason", "a cancellation needs a reason "
                        "(cancelationReason.text)")
    with db.transaction() as session:
        cancelled = services.cancel_appointment(session, actor, appointment_id, reason, now=now)
        return appointment_resource(cancelled, cancelled.request_id)


def find_appointments(session, params: Mapping[str, Sequence[str]],
                      reader: Reader | None = None) -> list[dict[str, Any]]:
    """Appointment search by patient, status and based-on (at most 500, soonest first); a
    staff `reader` is logged as having read the appointments of each patient found."""
    query = select(Appointment)
    for value in params.get("patient", []):
        query = query.where(Appointment.patient_id == int_id(
            value.removeprefix("Patient/"), "Appointment.participant.actor"))
    for value in params.get("based-on", []):
        query = query.where(Appointment.request_id == int_id(
            value.removeprefix("ServiceRequest/"), "Appointment.basedOn"))
    for value in params.get("status", []):
        try:
            states = [STATE_OF_FHIR[v] for v in value.split(",")]
        except KeyError:
            raise FhirError(400, "Appointment.status", f"status '{value}' is not one of "
                            f"{', '.join(STATE_OF_FHIR)}") from None
        query = query.where(col(Appointment.state).in_(states))
    rows = list(session.scalars(query.order_by(Appointment.start_at, Appointment.id)
                                .limit(500)))
    record_reads(session, reader, [PartRead(patient, "appointments")
                                   for patient in sorted({row.patient_id for row in rows})])
    return [appointment_resource(row, row.request_id) for row in rows]


def find(db: Database, index: SlotIndex, parameters: Any, now: datetime,
         base_url: str) -> dict[str, Any]:
    """$find: proposed Appointments for the ServiceRequest, from the slots its rules allow
    (checked against everything the exam needs), soonest first across every site."""
    values = _parameters(parameters)
    request_id = int_id(reference_id(values.get("service-request"), "ServiceRequest",
                                     "Parameters.parameter[service-request]"),
                        "Parameters.parameter[service-request]")
    query = SearchQuery(from_date=_day(values.get("start"), "start"),
                        to_date=_day(values.get("end"), "end"),
                        limit=_count(values.get("_count")))
    with db.reading() as session:
        result = search_slots(session, index, request_id, query, now=now)
    entries = []
    for offer in result.slots:
        proposed = {"resourceType": "Appointment", "status": "proposed",
                    "start": offer.start_at.isoformat(), "end": offer.end_at.isoformat(),
                    "slot": [{"reference": f"Slot/{offer.slot_id}"}],
                    "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
                    "participant": [{"actor": {"reference": f"Location/{offer.room_id}",
                                               "display": offer.site_name},
                                     "status": "needs-action"}]}
        entries.append({"resource": proposed, "search": {"mode": "match"}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
            "entry": entries}


def appointment_parameter(parameters: Any) -> Any:
    """The Appointment in a $hold or $book Parameters (parameter 'appointment')."""
    for parameter in parameters.parameter or []:
        if parameter.name == "appointment" and parameter.resource is not None:
            return parameter.resource
    raise FhirError(422, "Parameters.parameter[appointment]",
                    "an 'appointment' parameter with the Appointment is required")


def _slot_and_request(appointment: Any) -> tuple[int, int]:
    slots = appointment.slot or []
    if len(slots) != 1:
        raise FhirError(422, "Appointment.slot", "exactly one Slot must be named (the first "
                        "slot the exam takes)")
    based_on = appointment.basedOn or []
    if len(based_on) != 1:
        raise FhirError(422, "Appointment.basedOn", "the ServiceRequest being booked is "
                        "required (basedOn)")
    slot = reference_id(slots[0].reference, "Slot", "Appointment.slot")
    request = reference_id(based_on[0].reference, "ServiceRequest", "Appointment.basedOn")
    return int_id(slot, "Appointment.slot"), int_id(request, "Appointment.basedOn")


def _parameters(parameters: Any) -> dict[str, str]:
    values: dict[str, str] = {}
    for parameter in parameters.parameter or []:
        if parameter.valueReference is not None:
            values[parameter.name] = parameter.valueReference.reference or ""
        else:
            for field in ("valueString", "valueDate", "valueDateTime", "valueInstant",
                          "valueInteger", "valuePositiveInt", "valueCode"):
                value = getattr(parameter, field, None)
                if value is not None:
                    values[parameter.name] = str(value)
    return values


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise FhirError(400, f"Parameters.parameter[{name}]",
                        f"{name} '{value[:40]}' is not a date") from None
    problem = date_problem(day)
    if problem is not None:
        raise FhirError(400, f"Parameters.parameter[{name}]", f"{name} {problem}")
    return day


def _count(value: str | None) -> int:
    """How many proposals $find returns: 10 unless asked, at most MAX_PROPOSALS."""
    if not value:
        return 10
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise FhirError(400, "Parameters.parameter[_count]",
                        "_count must be a whole number of at least 1")
    return min(int(value), MAX_PROPOSALS)
