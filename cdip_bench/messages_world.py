"""The world `cdip bench messages` and the fault tests run on: a migrated scratch database
with the reference network, plain X-ray diaries in a few adult sites' rooms for the days
ahead, and patients who take texts and email (Ofcom drama numbers, example.com addresses),
each with one appointable chest X-ray request; bookings and cancellations made through the
service's own flows, so the outbox writes its rows exactly as in production (quiet hours
off: a run may fall in the night)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from booking_api.appointments import services
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.database import open_database
from booking_api.network.services import mirror_reference_data
from booking_api.outbox.policy import MessagePolicy, quiet_hours_from_setting
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from cdip_bench.vetted_requests import vet_in_bulk
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState, SlotStatus
from domain.network import load_reference_network
from domain.vocabulary import Modality, Priority, SessionPeriod

LONDON = ZoneInfo("Europe/London")
MAX_PATIENTS = 1000
"""Ofcom's drama range has 1,000 mobile numbers (07700 900000-900999)."""
ROOMS = 12
SLOT_MINUTES = 10
CLERK = Actor("clerk:bench", Channel.CLERK, role="clerk")
TEMPLATE = "XR_PLAIN_GEN"


@dataclass
class MessageWorld:
    db: Database
    requests: list[int]
    slots: list[int]
    booked: dict[int, int] = field(default_factory=dict)
    """request id -> appointment id."""
    cancelled_at: dict[int, float] = field(default_factory=dict)
    """appointment id -> time.time() just after its cancellation committed."""
    _next_request: int = 0
    _next_slot: int = 0

    def book(self, count: int) -> list[int]:
        """Book the next `count` patients, one transaction each; their appointment ids."""
        made = []
        for _ in range(count):
            request = self.requests[self._next_request]
            self._next_request += 1
            appointment = self._book_one(request)
            self.booked[request] = appointment
            made.append(appointment)
        return made

    def cancel(self, appointment_id: int) -> None:
        with self.db.transaction() as session:
            services.cancel_appointment(session, CLERK, appointment_id, "bench cancels",
                                        now=datetime.now(UTC))
        self.cancelled_at[appointment_id] = time.time()

    def _book_one(self, request: int) -> int:
        while True:
            slot = self.slots[self._next_slot]
            self._next_slot += 1
            with self.db.transaction() as session:
                return services.book_slot(session, CLERK, request, slot,
                                          now=datetime.now(UTC)).id


def phone_of(index: int) -> str:
    return f"+447700900{index:03d}"


def build_message_world(url: str, patients: int, seed: int = 7) -> MessageWorld:
    """Migrate `url`, load the network, write diaries with room for every patient."""
    if patients > MAX_PATIENTS:
        raise ValueError(f"at most {MAX_PATIENTS} patients (one drama number each)")
    migrate.upgrade(url)
    db = open_database(url, messages=MessagePolicy(quiet_hours=quiet_hours_from_setting("off")))
    network = load_reference_network()
    rng = random.Random(seed)
    with db.transaction() as session:
        mirror_reference_data(session, network, exam_catalogue())
    rooms = [room for room in network.rooms if room.modality is Modality.XR
             and network.site_by_id[room.site_id].age_limit_years is None][:ROOMS]
    slots = _diaries(db, [(room.room_id, room.site_id) for room in rooms],
                     needed=patients * 2)
    return MessageWorld(db, _patients(db, patients, [a.area_id for a in network.demand_areas],
                                      rng), slots)


def _diaries(db: Database, rooms: list[tuple[str, str]], needed: int) -> list[int]:
    per_session = (SessionPeriod.MORNING.end.hour - SessionPeriod.MORNING.start.hour) * 60 \
        // SLOT_MINUTES
    days = -(-needed // (per_session * len(rooms))) + 1
    first = datetime.now(LONDON).date() + timedelta(days=3)
    with db.transaction() as session:
        for day in (first + timedelta(days=d) for d in range(days)):
            for room_id, site_id in rooms:
                _session_slots(session, room_id, site_id, day, per_session)
    with db.reading() as session:
        return list(session.scalars(select(Slot.id).order_by(Slot.start_at, Slot.room_id)))


def _session_slots(session, room_id: str, site_id: str, day: date, count: int) -> None:
    diary = DiarySession(room_id=room_id, session_date=day, period=SessionPeriod.MORNING,
                         template_id=TEMPLATE, status=DiarySessionStatus.OPEN)
    session.add(diary)
    session.flush()
    start = datetime.combine(day, SessionPeriod.MORNING.start, tzinfo=LONDON).astimezone(UTC)
    step = timedelta(minutes=SLOT_MINUTES)
    session.execute(insert(Slot), [
        {"session_id": diary.id, "room_id": room_id, "site_id": site_id,
         "start_at": start + step * i, "end_at": start + step * (i + 1),
         "modality": Modality.XR, "families": "XR_PLAIN", "status": SlotStatus.FREE,
         "template_id": TEMPLATE, "version": 1, "changed_at": datetime.now(UTC)}
        for i in range(count)])


def _patients(db: Database, count: int, areas: list[str], rng: random.Random) -> list[int]:
    received = datetime.now(UTC) - timedelta(days=2)
    references: set[str] = set()
    while len(references) < count:
        references.add(new_booking_reference(rng))
    with db.transaction() as session:
        area_of = [rng.choice(areas) for _ in range(count)]
        ids = list(session.scalars(insert(Patient).returning(Patient.id), [
            {"given_name": "Bench", "family_name": f"Patient {i}",
             "date_of_birth": date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1),
             "postcode_district": area_of[i], "area_id": area_of[i], "phone": phone_of(i),
             "email": f"bench.patient{i}@example.com",
             "contact_preference": ContactPreference.BOTH} for i in range(count)]))
        request_ids = list(session.scalars(insert(Request).returning(Request.id), [
            {"patient_id": patient_id, "exam_code": "XCHES", "priority": Priority.ROUTINE,
             "received_at": received, "referrer": "bench GP", "booking_reference": reference,
             "state": RequestState.APPOINTABLE, "updated_at": received}
            for patient_id, reference in zip(ids, sorted(references), strict=True)]))
        vet_in_bulk(session, [(r, "XCHES") for r in request_ids], received,
                    received.date())
        return request_ids
