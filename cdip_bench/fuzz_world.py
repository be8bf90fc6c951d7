"""The world `cdip bench fuzz` (and the property tests) fuzz: a migrated database with the
reference network, a few days of X-ray diaries from tomorrow, patients with appointable
requests and contact details, staff accounts of each kind the routes check for, the shipped
order-code map, and (made through the API) a booking, a hold and a held order, so that most
routes reach past "no such thing" into the code that stores what they are sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlmodel import Session

from booking_api.access import services as access
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.interop.order_codes import SHIPPED_MAP, load_code_map, read_code_map
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.flows import VettingProtocol, justify_request
from booking_api.requests.models import Request
from booking_api.requests.services import receive_request
from booking_api.slots.models import DiarySession, Slot
from domain.exams import exam_catalogue
from domain.network import load_reference_network
from domain.vocabulary import Modality, Priority, SessionPeriod

LONDON = ZoneInfo("Europe/London")
ROOMS = (("UHB-QE-XR1", "UHB-QE"), ("UHB-HGH-XR1", "UHB-HGH"), ("UHB-WWH-XR1", "UHB-WWH"))
DAYS, SLOTS_PER_DAY, SLOT_MINUTES = 4, 8, 10
BORN = date(1960, 5, 17)
PASSWORD = "fuzzing passphrase of some length"
STAFF = {"admin": ("fuzz.admin", AccountRole.ADMIN),
         "vetting": ("fuzz.vetting", AccountRole.VETTING),
         "target": ("fuzz.target", AccountRole.CLERK)}
"""`target` is the account the admin routes change (so no fuzzed change locks the admin
out); the others sign in and send the fuzz."""
_SETUP = Actor("system:bench-fuzz", Channel.SYSTEM)
_VETTER = Actor("vetting:fuzz.vetter", Channel.CLERK, role="vetting")
_SETUP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass(frozen=True)
class FuzzPatient:
    patient_id: int
    request_id: int
    booking_reference: str


@dataclass(frozen=True)
class FuzzWorld:
    url: str
    patients: tuple[FuzzPatient, ...]
    slots: tuple[int, ...]
    rooms: tuple[str, ...]


def build_fuzz_world(url: str, patients: int = 6) -> FuzzWorld:
    """Migrate the empty database at `url` and fill it (accounts' passwords: PASSWORD)."""
    migrate.upgrade(url)
    engine = open_engine(url)
    try:
        with transaction(engine) as session:
            mirror_reference_data(session, load_reference_network(), exam_catalogue())
            load_code_map(session, read_code_map(SHIPPED_MAP))
            slots = _diaries(session, datetime.now(LONDON).date() + timedelta(days=1))
            people = tuple(_patient(session, number) for number in range(patients))
        _staff(engine)
    finally:
        engine.dispose()
    return FuzzWorld(url, people, slots, tuple(room for room, _site in ROOMS))


def _diaries(session: Session, first_day: date) -> tuple[int, ...]:
    slots: list[Slot] = []
    for room_id, site_id in ROOMS:
        for offset in range(DAYS):
            day = first_day + timedelta(days=offset)
            diary = DiarySession(room_id=room_id, session_date=day,
                                 period=SessionPeriod.MORNING, template_id="XR_PLAIN_GEN")
            session.add(diary)
            session.flush()
            start = datetime.combine(day, time(9, 0), tzinfo=LONDON).astimezone(UTC)
            step = timedelta(minutes=SLOT_MINUTES)
            slots += [Slot(session_id=diary.id, room_id=room_id, site_id=site_id,
                           start_at=start + step * i, end_at=start + step * (i + 1),
                           modality=Modality.XR, families="XR_PLAIN",
                           template_id="XR_PLAIN_GEN") for i in range(SLOTS_PER_DAY)]
    session.add_all(slots)
    session.flush()
    return tuple(slot.id for slot in slots if slot.id is not None)


def _patient(session: Session, number: int) -> FuzzPatient:
    patient = Patient(given_name="Fuzz", family_name=f"Patient{number}", date_of_birth=BORN,
                      postcode_district="B15", area_id="B15", phone="+447700900123",
                      email=f"fuzz{number}@example.org")
    session.add(patient)
    session.flush()
    assert patient.id is not None
    received = receive_request(
        session, _SETUP, "fuzz world referral", patient_id=patient.id, exam_code="XCHES",
        priority=Priority.ROUTINE, referrer="GP",
        received_at=datetime.now(UTC) - timedelta(days=3))
    justify_request(session, received.id, VettingProtocol(  # the rules make it appointable
        "XCHES", "chest PA", contrast=False, sedation=False, priority=Priority.ROUTINE),
        _VETTER)
    request = session.get(Request, received.id)
    assert request is not None and request.id is not None
    reference = request.booking_reference
    return FuzzPatient(patient.id, request.id, reference)


def _staff(engine: Engine) -> None:
    with transaction(engine) as session:
        for username, role in STAFF.values():
            access.create_staff(session, _SETUP, StaffCreate(
                username=username, display_name=username.title(), role=role,
                password=PASSWORD), _SETUP_HASHER)
