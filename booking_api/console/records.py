"""A request's whole record as a clerk or vetting radiologist reads it on one page: the
patient (only what booking needs), the exam and protocol, the recorded facts, every rule's
verdict and reason, the history of state changes, the appointments and the audit trail. One
short read session; frozen values only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlmodel import Session, col

from booking_api.appointments.models import Appointment
from booking_api.audit.models import AuditEvent
from booking_api.audit.reads import Reader, record_read
from booking_api.console.worklist import breach_date, needs_call_reasons
from booking_api.core.db import Database
from booking_api.core.errors import NotFound
from booking_api.network.models import ExamType, Room, Site
from booking_api.patients.models import ContactPreference, Patient
from booking_api.questionnaires.models import QuestionnaireResponse
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.rule_facts import decode_fact, recorded_facts
from booking_api.requests.rules_models import RequestFact, RequestProtocol
from booking_api.requests.services import RequestExplanation, explain_request
from domain.lifecycle import AppointmentState, RequestState
from domain.nhs_number import format_nhs_number
from domain.questionnaires import NO, YES, questionnaire_named
from domain.vocabulary import Modality, Priority
from slot_rules.facts import FACTS

AUDIT_ROWS = 50


@dataclass(frozen=True)
class PatientSummary:
    name: str
    nhs_number: str | None
    date_of_birth: date
    postcode_district: str
    contact: str
    """How the patient hears from us: 'text and email', 'letters only'…"""
    needs_call: tuple[str, ...]
    access_needs: tuple[str, ...]


@dataclass(frozen=True)
class RecordedFact:
    name: str
    label: str
    value: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class PatientAnswer:
    """One answer the patient gave to a health questionnaire, as they gave it."""

    questionnaire: str
    question: str
    answer: str
    """'Yes', 'No', or 'Yes (needs review)' for an answer that holds the request."""
    answered_by: str
    answered_at: datetime


@dataclass(frozen=True)
class StateChange:
    at: datetime
    actor: str
    from_state: str | None
    to_state: str
    reason: str | None


@dataclass(frozen=True)
class AppointmentLine:
    appointment_id: int
    state: AppointmentState
    start_at: datetime | None
    site_name: str | None
    room_name: str | None
    held_until: datetime | None
    cancel_reason: str | None


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    reason: str | None
    overrides: tuple[str, ...] = ()
    """Rules set aside by this event: 'clinical-window (radiologist vetting:x): reason'."""


@dataclass(frozen=True)
class ProtocolSummary:
    protocol: str
    exam_code: str
    contrast: bool
    sedation: bool
    special_requirements: str | None
    assigned_by: str
    assigned_at: datetime


@dataclass(frozen=True)
class RequestRecord:
    request_id: int
    reference: str
    state: RequestState
    priority: Priority
    exam_code: str
    exam_name: str
    modality: Modality
    received_at: datetime
    breach_on: date
    referrer: str
    clinical_question: str | None
    site_name: str | None
    vetting_note: str | None
    patient: PatientSummary
    protocol: ProtocolSummary | None
    facts: tuple[RecordedFact, ...]
    rules: RequestExplanation
    history: tuple[StateChange, ...]
    appointments: tuple[AppointmentLine, ...]
    audit: tuple[AuditLine, ...]
    answers: tuple[PatientAnswer, ...] = ()

    @property
    def active_appointment(self) -> AppointmentLine | None:
        return next((a for a in self.appointments if a.state in (
            AppointmentState.HELD, AppointmentState.BOOKED)), None)


FACT_CHOICES = tuple((name, fact.label) for name, fact in sorted(FACTS.items()))
"""Facts a person may record (derived ones are recorded too when they disagree)."""


def request_record(db: Database, request_id: int, today: date,
                   reader: Reader | None = None) -> RequestRecord:
    """The record of one request; NotFound when there is none. The read is logged in the
    access log of the patient's record for `reader` (staff: `audit.reads`)."""
    with db.reading() as session:
        request = session.get(Request, request_id)
        if request is None:
            raise NotFound("request", request_id, "request_id")
        exam = session.get(ExamType, request.exam_code)
        patient = session.get(Patient, request.patient_id)
        site = session.get(Site, request.site_id) if request.site_id else None
        assert exam is not None and patient is not None
        received_on = request.received_at.date()
        record = RequestRecord(
            request_id=request_id, reference=request.booking_reference,
            state=RequestState(request.state), priority=Priority(request.priority),
            exam_code=exam.code, exam_name=exam.name, modality=Modality(exam.modality),
            received_at=request.received_at,
            breach_on=breach_date(Priority(request.priority), received_on, request.due_date),
            referrer=request.referrer, clinical_question=request.clinical_question,
            site_name=site.name if site else None, vetting_note=request.vetting_note,
            patient=_patient(patient, _chaperone(session, request_id)),
            protocol=_protocol(session, request_id), answers=_answers(session, request_id),
            facts=_facts(session, request_id), rules=explain_request(session, request_id, today),
            history=_history(session, request_id),
            appointments=_appointments(session, request_id),
            audit=_audit(session, request_id))
        record_read(session, reader, patient.id or 0, "request", request_id)
        return record


def _chaperone(session: Session, request_id: int) -> bool:
    return recorded_facts(session, request_id).get("chaperone_requested") is True


def _answers(session: Session, request_id: int) -> tuple[PatientAnswer, ...]:
    rows = session.scalars(select(QuestionnaireResponse)
                           .where(QuestionnaireResponse.request_id == request_id)
                           .order_by(col(QuestionnaireResponse.id)))
    answers = []
    for row in rows:
        try:
            questionnaire = questionnaire_named(row.questionnaire)
        except KeyError:
            continue
        for question in questionnaire.questions:
            given = row.answers.get(question.question_id)
            shown = "Yes" if given == YES else "No" if given == NO else "Not answered"
            if given == YES and question.review_if_yes:
                shown += " (needs review)"
            answers.append(PatientAnswer(questionnaire.title, question.text, shown,
                                         row.answered_by, row.answered_at))
    return tuple(answers)


def _patient(patient: Patient, chaperone: bool = False) -> PatientSummary:
    contact = {ContactPreference.SMS: "text", ContactPreference.EMAIL: "email",
               ContactPreference.BOTH: "text and email",
               ContactPreference.NONE: "letters only"}[ContactPreference(
                   patient.contact_preference)]
    interpreter = (f"interpreter ({patient.interpreter_language})"
                   if patient.interpreter_language else None)
    access = tuple(need for need, wanted in (
        (interpreter or "", interpreter is not None),
        ("step-free access", patient.needs_step_free), ("hoist", patient.needs_hoist),
        ("transport", patient.needs_transport), ("chaperone", chaperone)) if wanted)
    return PatientSummary(
        name=f"{patient.given_name} {patient.family_name}",
        nhs_number=format_nhs_number(patient.nhs_number) if patient.nhs_number else None,
        date_of_birth=patient.date_of_birth, postcode_district=patient.postcode_district,
        contact=contact, access_needs=access,
        needs_call=needs_call_reasons(patient.phone, patient.email,
                                      patient.interpreter_language, patient.needs_transport,
                                      ContactPreference(patient.contact_preference)))


def _protocol(session: Session, request_id: int) -> ProtocolSummary | None:
    row = session.get(RequestProtocol, request_id)
    if row is None:
        return None
    return ProtocolSummary(row.protocol, row.exam_code, row.contrast, row.sedation,
                           row.special_requirements, row.assigned_by, row.assigned_at)


def _facts(session: Session, request_id: int) -> tuple[RecordedFact, ...]:
    rows = session.scalars(select(RequestFact).where(RequestFact.request_id == request_id)
                           .order_by(col(RequestFact.recorded_at).desc(),
                                     col(RequestFact.id).desc()))
    facts = []
    for row in rows:
        value = decode_fact(row.name, row.value)
        label = FACTS[row.name].label if row.name in FACTS else row.name
        shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        facts.append(RecordedFact(row.name, label, shown, row.recorded_by, row.recorded_at))
    return tuple(facts)


def _history(session: Session, request_id: int) -> tuple[StateChange, ...]:
    rows = session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id)
                           .order_by(col(RequestEvent.at), col(RequestEvent.id)))
    return tuple(StateChange(r.at, r.actor, r.from_state.value if r.from_state else None,
                             r.to_state.value, r.reason) for r in rows)


def _appointments(session: Session, request_id: int) -> tuple[AppointmentLine, ...]:
    rows = session.execute(
        select(Appointment, Room.name, Site.name)
        .outerjoin(Room, Room.room_id == Appointment.room_id)
        .outerjoin(Site, Site.site_id == Room.site_id)
        .where(Appointment.request_id == request_id)
        .order_by(col(Appointment.created_at).desc(), col(Appointment.id).desc()))
    return tuple(AppointmentLine(a.id or 0, AppointmentState(a.state), a.start_at, site, room,
                                 a.held_until, a.cancel_reason) for a, room, site in rows)


def _audit(session: Session, request_id: int) -> tuple[AuditLine, ...]:
    appointment_ids = [str(i) for i in session.scalars(
        select(Appointment.id).where(Appointment.request_id == request_id))]
    about = (AuditEvent.entity == "request") & (AuditEvent.entity_id == str(request_id))
    if appointment_ids:
        about = or_(about, (AuditEvent.entity == "appointment")
                    & col(AuditEvent.entity_id).in_(appointment_ids))
    rows = session.scalars(select(AuditEvent).where(about)
                           .order_by(col(AuditEvent.id).desc()).limit(AUDIT_ROWS))
    return tuple(AuditLine(r.at, r.actor, r.action, r.entity, r.entity_id, r.reason,
                           _overrides_of(r.after or {}, r.actor)) for r in rows)


def _overrides_of(after: dict, actor: str) -> tuple[str, ...]:
    """The rules an audited change set aside (a booking's slot-rule overrides; a rule
    override recorded on the request), in words."""
    if "overrides" in after:
        return tuple(f"{o.get('rule_id')} (by {o.get('by') or actor} as "
                     f"{o.get('role')}): {o.get('reason')}"
                     for o in after["overrides"] if isinstance(o, dict))
    if "rule_id" in after and "ruleset" in after:
        kind = "slot rule" if after["ruleset"] == "slot_eligibility" else "rule"
        return (f"{kind} {after['rule_id']} ({after.get('role')}, {actor})",)
    return ()
