"""The smallest world the portal's pages need: the reference network and exam catalogue,
X-ray diaries at three sites (two hospitals and a community diagnostic centre) for the coming
days, and a few patients each with one appointable chest X-ray request (vetted and placed by
the rules, `tests.request_support`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlmodel import Session

from booking_api.appointments import services
from booking_api.appointments.models import Appointment
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request
from booking_api.requests.services import EVALUATED_STATES
from booking_api.slots.models import DiarySession, Slot
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState, SlotStatus
from domain.network import load_reference_network
from domain.vocabulary import Modality, SessionPeriod
from tests.request_support import appointable_request, received_request

LONDON = ZoneInfo("Europe/London")
DIARY_ROOMS = (("UHB-QE-XR1", "UHB-QE"), ("UHB-HGH-XR1", "UHB-HGH"),
               ("UHB-WWH-XR1", "UHB-WWH"))
"""Queen Elizabeth and Heartlands (hospitals), Washwood Heath (a CDC)."""
DATE_OF_BIRTH = date(1960, 5, 17)
SLOTS_PER_DAY = 6
SLOT_MINUTES = 10


@dataclass(frozen=True)
class PortalPatientLogin:
    booking_reference: str
    date_of_birth: date
    request_id: int


@dataclass(frozen=True)
class PortalWorld:
    url: str
    first_day: date
    days: int
    patients: tuple[PortalPatientLogin, ...]


def build_portal_world(url: str, *, days: int = 12, patients: int = 12,
                       today: date | None = None) -> PortalWorld:
    """Migrate the database at `url` and fill it; diaries start the day after `today`."""
    migrate.upgrade(url)
    engine = open_engine(url)
    first_day = (today or datetime.now(LONDON).date()) + timedelta(days=1)
    try:
        with transaction(engine) as session:
            mirror_reference_data(session, load_reference_network(), exam_catalogue())
            for room_id, site_id in DIARY_ROOMS:
                for offset in range(days):
                    _diary_day(session, room_id, site_id, first_day + timedelta(days=offset))
            logins = tuple(_patient(session, number) for number in range(patients))
    finally:
        engine.dispose()
    return PortalWorld(url, first_day, days, logins)


def portal_engine(world: PortalWorld) -> Engine:
    return open_engine(world.url)


def _diary_day(session: Session, room_id: str, site_id: str, day: date) -> None:
    diary = DiarySession(room_id=room_id, session_date=day, period=SessionPeriod.MORNING,
                         template_id="XR_PLAIN_GEN")
    session.add(diary)
    session.flush()
    start = datetime.combine(day, time(9, 0), tzinfo=LONDON).astimezone(UTC)
    step = timedelta(minutes=SLOT_MINUTES)
    session.add_all(Slot(session_id=diary.id, room_id=room_id, site_id=site_id,
                         start_at=start + step * i, end_at=start + step * (i + 1),
                         modality=Modality.XR, families="XR_PLAIN",
                         template_id="XR_PLAIN_GEN")
                    for i in range(SLOTS_PER_DAY))


def add_patient(world: PortalWorld, number: int,
                state: RequestState = RequestState.APPOINTABLE) -> PortalPatientLogin:
    """One more patient whose request is in `state` (e.g. not yet vetted)."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return _patient(session, number, state)
    finally:
        engine.dispose()


def _patient(session: Session, number: int,
             state: RequestState = RequestState.APPOINTABLE) -> PortalPatientLogin:
    """A patient with one chest X-ray request: received (not yet vetted), appointable (vetted
    and placed by the rules), or in a later state the rules do not govern (attended...),
    written as the request's history would leave it."""
    patient = Patient(given_name="Test", family_name=f"Portal{number}",
                      date_of_birth=DATE_OF_BIRTH, postcode_district="B1", area_id="B1")
    session.add(patient)
    session.flush()
    assert patient.id is not None
    reference = new_booking_reference(random.Random(1000 + number))
    received_at = datetime.now(UTC) - timedelta(days=3)
    if state is RequestState.APPOINTABLE:
        request = appointable_request(session, patient.id, "XCHES", received_at=received_at,
                                      booking_reference=reference)
    else:
        request = received_request(session, patient.id, "XCHES", received_at=received_at,
                                   booking_reference=reference)
        if state is not RequestState.RECEIVED:
            assert state not in EVALUATED_STATES, f"{state}: let the rules place it"
            request.state = state
            session.add(request)
            session.flush()
    assert request.id is not None
    return PortalPatientLogin(reference, DATE_OF_BIRTH, request.id)


def book_late_slot(world: PortalWorld, login: PortalPatientLogin) -> int:
    """Book the latest free slot of the diaries for this patient (through the booking
    service), away from the early times the journeys pick; returns the appointment id."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            request = session.get(Request, login.request_id)
            assert request is not None
            slot_id = session.scalar(
                select(Slot.id).where(Slot.status == SlotStatus.FREE)
                .order_by(Slot.start_at.desc(), Slot.id.desc()))
            appointment = services.book_slot(
                session, Actor(f"patient:{request.patient_id}", Channel.PORTAL, "patient"),
                login.request_id, slot_id, now=datetime.now(UTC))
            assert appointment.id is not None
            return appointment.id
    finally:
        engine.dispose()


def expire_every_hold(world: PortalWorld, minutes_ahead: int = 61) -> int:
    """Run the booking service's hold sweeper as if `minutes_ahead` minutes had passed."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return services.sweep_expired_holds(
                session, datetime.now(UTC) + timedelta(minutes=minutes_ahead))
    finally:
        engine.dispose()


def appointment_states(world: PortalWorld, login: PortalPatientLogin) -> list[str]:
    """The states of this request's appointments, oldest first."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return [state.value for state in session.scalars(
                select(Appointment.state).where(Appointment.request_id == login.request_id)
                .order_by(Appointment.id))]
    finally:
        engine.dispose()
