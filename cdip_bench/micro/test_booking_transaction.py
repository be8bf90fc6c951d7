"""One booking through the service layer on SQLite, as the patient portal makes it: hold a
slot (one transaction), then book the hold (another), through `appointments.journey`. Each
round takes a fresh request and slot; audit events, the request's transition and the slot's
marking are all inside the timing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import col

from booking_api.appointments import journey
from booking_api.appointments.models import Appointment
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.requests.models import Request
from cdip_bench.booking import free_plain_slots
from cdip_bench.booking_data import BenchWorld
from cdip_bench.micro.conftest import WORLD_REQUESTS
from domain.lifecycle import AppointmentState

HOLD_MINUTES = 10
WARMUP = 2
ROUNDS = WORLD_REQUESTS - 1 - WARMUP


def hold_then_book(db: Database, patient_id: int, request_id: int, slot_id: int) -> int:
    actor = Actor(f"patient:{patient_id}", Channel.PORTAL)
    hold_id = journey.hold_time(db, actor, patient_id, request_id, slot_id, previous_hold=None,
                                now=datetime.now(UTC), hold_minutes=HOLD_MINUTES)
    journey.book_held_time(db, actor, patient_id, hold_id, now=datetime.now(UTC))
    return hold_id


def test_hold_then_book_one_slot(benchmark, booking_world: BenchWorld,
                                 service_database: Database):
    requests = booking_world.simple_requests[1:]
    with service_database.reading() as session:
        rows = session.execute(select(Request.id, Request.patient_id).where(
            col(Request.id).in_(requests)))
        patient_of = {request_id: patient_id for request_id, patient_id in rows}
    pairs = iter(zip(requests, free_plain_slots(booking_world.engine), strict=False))

    def next_booking() -> tuple[tuple, dict]:
        request_id, slot_id = next(pairs)
        return (service_database, patient_of[request_id], request_id, slot_id), {}

    appointment_id = benchmark.pedantic(hold_then_book, setup=next_booking, rounds=ROUNDS,
                                        warmup_rounds=WARMUP)

    with service_database.reading() as session:
        assert session.get(Appointment, appointment_id).state is AppointmentState.BOOKED
