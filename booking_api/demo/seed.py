"""`cdip seed`: the reference network, the exam catalogue and the demo patients, loaded in
one transaction (all or nothing) and idempotently (reference rows are upserted by their
codes; patients and requests are added only when their NHS number or booking reference is
new, so a second run changes nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.demo.people import DemoPatient, DemoRequest, demo_patients
from booking_api.network.models import ExamType
from booking_api.network.services import TableSync, mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.rule_facts import encode_fact
from booking_api.requests.rules_models import RequestFact, RequestProtocol
from booking_api.requests.services import reevaluate_request
from domain.exams import ExamType as DomainExamType
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState
from domain.network import Network, load_reference_network
from domain.vocabulary import Priority

SEED_ACTOR = f"{Channel.SEED}:demo"
VETTING_ACTOR = "demo radiologist"
DEMO_EGFR = 75
"""ml/min/1.73m²: normal kidney function, so a contrast request can go ahead."""


@dataclass(frozen=True)
class DemoReference:
    """A booking reference to try the demo with, and the date of birth that goes with it."""

    booking_reference: str
    date_of_birth: date
    exam_name: str
    priority: Priority


@dataclass(frozen=True)
class SeedSummary:
    reference_tables: tuple[TableSync, ...]
    patients_added: int
    requests_added: int
    patients_total: int
    requests_total: int
    examples: tuple[DemoReference, ...]


def seed_demo(engine: Engine, today: date, network: Network | None = None,
              catalogue: Mapping[str, DomainExamType] | None = None,
              patients: int = 50) -> SeedSummary:
    """Load everything the demo needs; a failure anywhere leaves the database as it was."""
    with transaction(engine) as session:
        network = network if network is not None else load_reference_network()
        catalogue = catalogue if catalogue is not None else exam_catalogue()
        synced = mirror_reference_data(session, network, catalogue)
        people = demo_patients(network, catalogue, today, count=patients)
        patients_added, requests_added = _add_missing_people(session, people, catalogue,
                                                             today)
        return SeedSummary(
            reference_tables=tuple(synced),
            patients_added=patients_added,
            requests_added=requests_added,
            patients_total=_count(session, Patient),
            requests_total=_count(session, Request),
            examples=_examples(session, people),
        )


def _add_missing_people(session: Session, people: list[DemoPatient],
                        catalogue: Mapping[str, DomainExamType],
                        today: date) -> tuple[int, int]:
    known_patients = _patient_ids_by_nhs_number(session, [p.nhs_number for p in people])
    known_references = set(session.scalars(
        select(Request.booking_reference).where(Request.booking_reference.in_(
            [r.booking_reference for p in people for r in p.requests]))))
    patients_added = requests_added = 0
    for person in people:
        patient_id = known_patients.get(person.nhs_number)
        if patient_id is None:
            patient_id = _add_patient(session, person)
            patients_added += 1
        for demo_request in person.requests:
            if demo_request.booking_reference not in known_references:
                _add_request(session, patient_id, demo_request,
                             catalogue[demo_request.exam_code].name, today)
                requests_added += 1
    return patients_added, requests_added


def _patient_ids_by_nhs_number(session: Session, numbers: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(Patient.nhs_number, Patient.id).where(Patient.nhs_number.in_(numbers)))
    return {number: patient_id for number, patient_id in rows}


def _add_patient(session: Session, person: DemoPatient) -> int:
    fields = {k: v for k, v in vars(person).items() if k != "requests"}
    patient = Patient(**fields)
    session.add(patient)
    session.flush()
    assert patient.id is not None
    return patient.id


def _add_request(session: Session, patient_id: int, demo: DemoRequest, exam_name: str,
                 today: date) -> None:
    """The request as vetting leaves it (justified, with its protocol and the facts its
    referral carried), then placed by the rules like every other writer's: appointable, or
    waiting while a rule is pending (an MRI safety questionnaire, say)."""
    vetted_at = demo.vetted_at
    exam = exam_catalogue()[demo.exam_code]
    request = Request(
        patient_id=patient_id, exam_code=demo.exam_code, priority=demo.priority,
        state=RequestState.JUSTIFIED, received_at=demo.received_at,
        due_date=demo.due_date, earliest_date=demo.earliest_date,
        latest_date=demo.latest_date, referrer=demo.referrer,
        booking_reference=demo.booking_reference, vetted_by=VETTING_ACTOR,
        vetted_at=vetted_at, protocol=f"{exam_name}: standard protocol",
        updated_at=vetted_at,
    )
    session.add(request)
    session.flush()
    assert request.id is not None
    session.add(RequestProtocol(
        request_id=request.id, exam_code=demo.exam_code, protocol=request.protocol or "",
        contrast=exam.contrast, sedation=False,
        priority=demo.priority, assigned_by=VETTING_ACTOR, assigned_at=vetted_at))
    if exam.contrast:
        session.add_all(
            RequestFact(request_id=request.id, name=name, value=encode_fact(name, value),
                        recorded_by=demo.referrer, recorded_at=vetted_at)
            for name, value in _referral_kidney_test(vetted_at).items())
    steps = [(None, RequestState.RECEIVED, demo.received_at, SEED_ACTOR),
             (RequestState.RECEIVED, RequestState.JUSTIFIED, vetted_at, VETTING_ACTOR)]
    session.add_all(
        RequestEvent(request_id=request.id, at=at, actor=actor, from_state=before,
                     to_state=after, reason="demo data")
        for before, after, at, actor in steps
    )
    session.flush()
    reevaluate_request(session, request, today)


def _referral_kidney_test(vetted_at: datetime) -> dict[str, object]:
    """A recent eGFR the referrer sent with a contrast request (demo data)."""
    return {"egfr_ml_min": DEMO_EGFR, "egfr_date": (vetted_at - timedelta(days=14)).date()}


def _examples(session: Session, people: list[DemoPatient], limit: int = 5
              ) -> tuple[DemoReference, ...]:
    references = [r.booking_reference for p in people for r in p.requests][:limit]
    rows = session.execute(
        select(Request.booking_reference, Patient.date_of_birth, ExamType.name, Request.priority)
        .join(Patient, Patient.id == Request.patient_id)
        .join(ExamType, ExamType.code == Request.exam_code)
        .where(Request.booking_reference.in_(references))
        .order_by(Request.id)
    )
    return tuple(DemoReference(*row) for row in rows)


def _count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0
