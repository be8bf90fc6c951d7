"""A received request for a 70-year-old patient with a phone number, in a migrated database
holding the tiny network and the exams these tests vet to."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState
from domain.network import Network
from domain.vocabulary import Priority

TODAY = date(2027, 2, 1)
EXAMS = ("XCHES", "CABPC", "MBRAI")
RADIOLOGIST = Actor("radiologist:akhan", Channel.CLERK, role="radiologist")
CLERK = Actor("clerk:jsmith", Channel.CLERK, role="clerk")


@pytest.fixture
def received_request(engine: Engine, tiny_network: Network) -> int:
    with transaction(engine) as session:
        mirror_reference_data(session, tiny_network,
                              {code: exam_catalogue()[code] for code in EXAMS})
        patient = Patient(given_name="Test", family_name="Patient",
                          date_of_birth=date(1956, 5, 17), postcode_district="B15",
                          area_id="B15", phone="+447700900123")
        session.add(patient)
        session.flush()
        request = Request(patient_id=patient.id, exam_code="CABPC", priority=Priority.ROUTINE,
                          state=RequestState.RECEIVED,
                          received_at=datetime(2027, 1, 29, 9, 30, tzinfo=UTC),
                          referrer="GP", booking_reference="JK3D-PNJE-NC")
        session.add(request)
        session.flush()
        return request.id
