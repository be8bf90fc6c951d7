"""What a patient tells us they need for their visit, recorded where the rules read it: the
patient's access needs (step-free access and a hoist, which slot eligibility checks against
the site; an interpreter and transport, which the appointability rules flag for the clerk)
and, for an intimate examination, a chaperone as a fact of the request. Audited with the
before and after. The patient's open requests are then re-evaluated like after any other
change to the facts: today's rules only flag needs for the clerk, but stored states follow the
rules' verdict whatever a later rule set makes of a need (issue 17, item 3)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import Session, col, select

from booking_api.appointments.models import Appointment
from booking_api.audit.services import Actor, record_audit
from booking_api.core.db import Database
from booking_api.network.models import Room, Site
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.requests.rule_facts import encode_fact, recorded_facts
from booking_api.requests.rules_models import RequestFact
from booking_api.requests.services import EVALUATED_STATES, get_request, reevaluate_request
from domain.lifecycle import AppointmentState, RequestState
from domain.patient_needs import PatientNeeds, offers_chaperone

NEEDS_OPEN_STATES = frozenset({RequestState.RECEIVED, RequestState.JUSTIFIED,
                               RequestState.WAITING, RequestState.APPOINTABLE,
                               RequestState.APPOINTED})


class NeedsRefused(ValueError):
    """Needs that cannot be recorded for this request; nothing was written."""


@dataclass(frozen=True)
class NeedsOnRecord:
    needs: PatientNeeds
    chaperone_offered: bool
    """The request's exam is intimate: the patient is asked about a chaperone."""


def needs_on_record(db: Database, patient_id: int, request_id: int) -> NeedsOnRecord:
    """The patient's needs as recorded now (NeedsRefused if the request is not theirs)."""
    with db.reading() as session:
        patient, request = _patient_and_request(session, patient_id, request_id)
        chaperone = recorded_facts(session, request_id).get("chaperone_requested") is True
        return NeedsOnRecord(_needs_of(patient, chaperone), offers_chaperone(request.exam_code))


@dataclass(frozen=True)
class NeedsRecorded:
    site_name: str | None
    """The site of the request's live (held or booked) appointment, if any."""
    site_lacks: tuple[str, ...]
    """What the patient now needs that that site does not have ('step-free access'...)."""


def record_needs(db: Database, patient_id: int, request_id: int, needs: PatientNeeds,
                 actor: Actor) -> NeedsRecorded:
    """Record the needs (replacing the patient's previous ones) in one transaction, and say
    what the site of an appointment already made lacks (the patient should move it)."""
    with db.transaction() as session:
        patient, request = _patient_and_request(session, patient_id, request_id)
        if RequestState(request.state) not in NEEDS_OPEN_STATES:
            raise NeedsRefused(f"request {request_id} is {request.state}")
        chaperone_before = recorded_facts(session, request_id).get("chaperone_requested")
        before = _needs_of(patient, chaperone_before is True)
        patient.interpreter_language = needs.interpreter_language
        patient.needs_step_free, patient.needs_hoist = needs.step_free, needs.hoist
        patient.needs_transport = needs.transport
        session.add(patient)
        if offers_chaperone(request.exam_code) and chaperone_before != needs.chaperone:
            session.add(RequestFact(request_id=request_id, name="chaperone_requested",
                                    value=encode_fact("chaperone_requested", needs.chaperone),
                                    recorded_by=f"{actor.name} (needs)"))
        record_audit(session, actor, "patient.needs", "patient", patient_id,
                     before=asdict(before), after={**asdict(needs),
                                                   "request_id": request_id})
        session.flush()
        for open_request in session.exec(select(Request).where(
                Request.patient_id == patient_id,
                col(Request.state).in_(EVALUATED_STATES)).order_by(col(Request.id))).all():
            reevaluate_request(session, open_request)
        return _site_check(session, request_id, needs)


def _site_check(session: Session, request_id: int, needs: PatientNeeds) -> NeedsRecorded:
    site = session.exec(
        select(Site).join(Room, col(Room.site_id) == Site.site_id)
        .join(Appointment, col(Appointment.room_id) == Room.room_id)
        .where(Appointment.request_id == request_id,
               col(Appointment.state).in_((AppointmentState.HELD, AppointmentState.BOOKED)))
    ).first()
    if site is None:
        return NeedsRecorded(None, ())
    lacks = tuple(need for need, missing in (
        ("step-free access", needs.step_free and not site.step_free),
        ("a hoist", needs.hoist and not site.hoist)) if missing)
    return NeedsRecorded(site.name, lacks)


def _patient_and_request(session: Session, patient_id: int,
                         request_id: int) -> tuple[Patient, Request]:
    """The request is locked (the rules re-evaluate it); the patient row is not, so this
    never waits in the opposite order to a booking, which locks the patient first."""
    request = get_request(session, request_id, for_update=True)
    patient = session.get(Patient, patient_id)
    if patient is None or request.patient_id != patient_id:
        raise NeedsRefused(f"request {request_id} is not patient {patient_id}'s")
    return patient, request


def _needs_of(patient: Patient, chaperone: bool) -> PatientNeeds:
    return PatientNeeds(interpreter_language=patient.interpreter_language,
                        step_free=patient.needs_step_free, hoist=patient.needs_hoist,
                        transport=patient.needs_transport, chaperone=chaperone)
