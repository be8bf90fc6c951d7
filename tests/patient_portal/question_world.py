"""Patients of the portal world whose test needs health questions first: a request received
for an MRI or contrast CT and justified by a radiologist, so the rules place it (waiting for
the patient's answers)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.patients.contact_verification import ContactVerification
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.flows import VettingProtocol, justify_request
from booking_api.requests.models import Request
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from tests.patient_portal.portal_world import PortalPatientLogin, PortalWorld, portal_engine

BORN = date(1986, 3, 9)
"""Under 66: contrast without diabetes or kidney problems needs no eGFR."""
RADIOLOGIST = Actor("radiologist:akhan", Channel.CLERK, role="radiologist")
PROTOCOLS = {"UPELV": VettingProtocol("UPELV", "US pelvis TA and TV", False, False,
                                      Priority.ROUTINE),
             "MBRAI": VettingProtocol("MBRAI", "MRI brain routine", False, False,
                                      Priority.ROUTINE),
             "CCHEC": VettingProtocol("CCHEC", "CT chest with contrast", True, False,
                                      Priority.ROUTINE)}


def add_questioned_patient(world: PortalWorld, number: int, exam_code: str) -> PortalPatientLogin:
    """A patient (with an email address) whose `exam_code` request is justified."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            patient = Patient(given_name="Test", family_name=f"Questions{number}",
                              date_of_birth=BORN, postcode_district="B1", area_id="B1",
                              email=f"questions{number}@example.org")
            session.add(patient)
            session.flush()
            request = Request(patient_id=patient.id, exam_code=exam_code,
                              priority=Priority.ROUTINE, state=RequestState.RECEIVED,
                              received_at=datetime.now(UTC) - timedelta(days=3),
                              referrer="GP",
                              booking_reference=new_booking_reference(random.Random(5000 + number)))
            session.add(request)
            session.flush()
            justify_request(session, request.id, PROTOCOLS[exam_code], RADIOLOGIST)
            assert request.id is not None
            return PortalPatientLogin(request.booking_reference, BORN, request.id)
    finally:
        engine.dispose()


def request_state(world: PortalWorld, login: PortalPatientLogin) -> str:
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return str(session.scalar(select(Request.state).where(Request.id == login.request_id)))
    finally:
        engine.dispose()


def latest_code(world: PortalWorld) -> str:
    """The code the outbox will send (read where the worker reads it)."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return session.scalars(select(ContactVerification.code)
                                   .order_by(ContactVerification.id.desc())).first()
    finally:
        engine.dispose()
