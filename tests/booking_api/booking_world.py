"""A small bookable world for the booking tests: the tiny network's reference data, diaries of
X-ray slots a week ahead, and patients each with one appointable request (vetted and placed
by the rules, `tests.request_support`).

`booking_engine` migrates one database of each kind per test module (migrating is what makes a
database test slow) and empties it before every test; test modules import the fixture.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.audit.models import AuditEvent
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.slots.models import DiarySession, Slot
from booking_api.tables import metadata
from domain.exams import ExamType
from domain.network import Network
from domain.vocabulary import Modality, SessionPeriod
from tests.request_support import appointable_request

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DIARY_DAY = date(2026, 12, 7)
CLERK = Actor("clerk:test", Channel.CLERK, role="clerk")


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_engine(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database of each kind for the whole test module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('booking') / 'cdip.sqlite3'}"
        yield from _migrated(url)
        return
    base = request.getfixturevalue("postgres_database_url")
    schema = f"b_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield from _migrated(make_url(base).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def booking_engine(migrated_engine: Engine) -> Engine:
    """The module's database, emptied of every row."""
    with transaction(migrated_engine) as session:
        for table in reversed(metadata.sorted_tables):
            session.execute(delete(table))
    return migrated_engine


def _migrated(url: str) -> Iterator[Engine]:
    migrate.upgrade(url)
    engine = open_engine(url, pool_size=60, max_overflow=10)
    try:
        yield engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class World:
    engine: Engine
    slots: dict[str, list[int]]
    """Slot ids per room, in time order."""
    patients: list[int]
    requests: list[int]
    """requests[i] belongs to patients[i]."""

    def patient_actor(self, index: int) -> Actor:
        return Actor(f"patient:{self.patients[index]}", Channel.PORTAL, role="patient")


def build_world(engine: Engine, network: Network, catalogue: dict[str, ExamType], *,
                patients: int = 4, slots_per_room: int = 6, slot_minutes: int = 10,
                exam_code: str = "XCHES", facts: dict[str, object] | None = None) -> World:
    """X-ray diaries at both sites on DIARY_DAY morning and `patients` appointable requests
    (`facts` recorded for each, default what the exam needs: `request_support.ready_facts`)."""
    with transaction(engine) as session:
        mirror_reference_data(session, network, catalogue)
        slots = {room: _diary(session, room, site, slots_per_room, slot_minutes)
                 for room, site in (("S1-XR1", "S1"), ("S2-XR1", "S2"))}
        patient_ids, request_ids = add_patients(session, patients, exam_code, facts=facts)
    return World(engine, slots, patient_ids, request_ids)


def add_patients(session: Session, count: int, exam_code: str, first: int = 0,
                 facts: dict[str, object] | None = None) -> tuple[list[int], list[int]]:
    patient_ids, request_ids = [], []
    for number in range(first, first + count):
        patient = Patient(given_name="Test", family_name=f"Patient{number}",
                          date_of_birth=date(1960, 5, 17), postcode_district="B15",
                          area_id="B15")
        session.add(patient)
        session.flush()
        request = appointable_request(
            session, patient.id, exam_code, received_at=NOW - timedelta(days=3),
            booking_reference=new_booking_reference(random.Random(number)), facts=facts,
            today=NOW.date())
        patient_ids.append(patient.id)
        request_ids.append(request.id)
    return patient_ids, request_ids


def add_request(engine: Engine, patient_id: int, exam_code: str = "XKNEE",
                number: int = 0) -> int:
    """Another appointable request of an existing patient (a knee X-ray besides the chest)."""
    with transaction(engine) as session:
        request = appointable_request(
            session, patient_id, exam_code, received_at=NOW - timedelta(days=2),
            booking_reference=new_booking_reference(random.Random(900 + number)),
            today=NOW.date())
        assert request.id is not None
        return request.id


def _diary(session: Session, room: str, site: str, count: int, minutes: int) -> list[int]:
    diary = DiarySession(room_id=room, session_date=DIARY_DAY, period=SessionPeriod.MORNING,
                         template_id="XR_PLAIN_GEN")
    session.add(diary)
    session.flush()
    start = datetime.combine(DIARY_DAY, SessionPeriod.MORNING.start, tzinfo=UTC)
    rows = [Slot(session_id=diary.id, room_id=room, site_id=site,
                 start_at=start + timedelta(minutes=minutes * i),
                 end_at=start + timedelta(minutes=minutes * (i + 1)), modality=Modality.XR,
                 families="XR_PLAIN", template_id="XR_PLAIN_GEN")
            for i in range(count)]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def active_per_slot(engine: Engine) -> dict[int, int]:
    """Number of active appointments on each slot that has any."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Appointment.slot_id, func.count()).where(
                Appointment.state.in_(ACTIVE_STATES)).group_by(Appointment.slot_id))
        return dict(rows.all())


def appointment_audit_count(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "appointment")) or 0
