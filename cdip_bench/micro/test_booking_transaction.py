"""One booking through the service layer on SQLite, as the portal makes it: hold a slot (one
transaction), then book the hold (another). Each round takes a fresh request and slot; the
audit events, request transition and slot marking are all inside the timing."""

from __future__ import annotations

from datetime import UTC, datetime

from booking_api.appointments import services
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from cdip_bench.booking import free_plain_slots
from cdip_bench.booking_data import BenchWorld
from cdip_bench.micro.conftest import WORLD_REQUESTS
from domain.lifecycle import AppointmentState

ACTOR = Actor("system:micro-bench", Channel.SYSTEM)
HOLD_MINUTES = 10
WARMUP = 2
ROUNDS = WORLD_REQUESTS - 1 - WARMUP


def hold_then_book(world: BenchWorld, request_id: int, slot_id: int) -> AppointmentState:
    with transaction(world.engine) as session:
        hold = services.hold_slot(session, ACTOR, request_id, slot_id, now=datetime.now(UTC),
                                  hold_minutes=HOLD_MINUTES)
        session.flush()
        hold_id = hold.id
    with transaction(world.engine) as session:
        return services.book_hold(session, ACTOR, hold_id, now=datetime.now(UTC)).state


def test_hold_then_book_one_slot(benchmark, booking_world: BenchWorld):
    pairs = iter(zip(booking_world.simple_requests[1:], free_plain_slots(booking_world.engine),
                     strict=False))

    def next_pair() -> tuple[tuple, dict]:
        request_id, slot_id = next(pairs)
        return (booking_world, request_id, slot_id), {}

    state = benchmark.pedantic(hold_then_book, setup=next_pair, rounds=ROUNDS,
                               warmup_rounds=WARMUP)

    assert state is AppointmentState.BOOKED
