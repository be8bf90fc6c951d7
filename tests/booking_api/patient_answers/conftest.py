"""A 40-year-old patient with one request per exam these tests need (MRI brain, contrast CT,
chest X-ray, transvaginal ultrasound), each justified by a radiologist, in a migrated
database of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import Database, transaction
from booking_api.database import open_database
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.flows import VettingProtocol, justify_request
from booking_api.requests.models import Request
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState
from domain.network import Network
from domain.vocabulary import Priority

TODAY = date(2027, 2, 1)
RADIOLOGIST = Actor("radiologist:akhan", Channel.CLERK, role="radiologist")
RADIOGRAPHER = Actor("radiographer:mpatel", Channel.CLERK, role="radiographer")
PROTOCOLS = {"MBRAI": ("MRI brain routine", False), "CCHEC": ("CT chest with contrast", True),
             "XCHES": ("CXR PA", False), "UPELV": ("US pelvis TA and TV", False)}


@pytest.fixture
def db(migrated_url: str) -> Iterator[Database]:
    database = open_database(migrated_url)
    yield database
    database.dispose()


@pytest.fixture
def patient_requests(engine: Engine, tiny_network: Network) -> dict[str, tuple[int, int]]:
    """Exam code → (patient id, request id): one patient, three justified requests."""
    with transaction(engine) as session:
        mirror_reference_data(session, tiny_network,
                              {code: exam_catalogue()[code] for code in PROTOCOLS})
        patient = Patient(given_name="Test", family_name="Patient",
                          date_of_birth=date(1986, 5, 17), postcode_district="B15",
                          area_id="B15", phone="+447700900123")
        session.add(patient)
        session.flush()
        made = {}
        for number, (code, (protocol, contrast)) in enumerate(PROTOCOLS.items()):
            request = Request(patient_id=patient.id, exam_code=code, priority=Priority.ROUTINE,
                              state=RequestState.RECEIVED,
                              received_at=datetime(2027, 1, 29, 9, 30, tzinfo=UTC),
                              referrer="GP", booking_reference=f"JK3D-PNJE-N{number}")
            session.add(request)
            session.flush()
            justify_request(session, request.id, VettingProtocol(
                exam_code=code, protocol=protocol, contrast=contrast, sedation=False,
                priority=Priority.ROUTINE), RADIOLOGIST, TODAY)
            made[code] = (patient.id, request.id)
        return made
