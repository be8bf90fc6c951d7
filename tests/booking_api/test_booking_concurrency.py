"""Races and atomicity on SQLite and PostgreSQL: many clients for one slot get exactly one
booking; a reschedule that fails between its steps leaves the original booking intact."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from booking_api.appointments import flows, services
from booking_api.appointments.models import Appointment
from booking_api.core.db import transaction
from booking_api.core.errors import RequestNotBookable, SlotTaken
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    active_per_slot,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]
RACERS = 50


def _race(engine: Engine, attempts: list) -> Counter:
    """Run every attempt in its own thread, all released at once; count the outcomes."""
    start = threading.Barrier(len(attempts))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def attempt(run) -> None:
        start.wait()
        try:
            with transaction(engine) as session:
                run(session)
            outcome = "booked"
        except (SlotTaken, RequestNotBookable) as refused:
            outcome = type(refused).__name__
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt, args=(run,)) for run in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_fifty_threads_racing_for_one_slot_give_exactly_one_booking(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=RACERS)
    slot = world.slots["S1-XR1"][0]

    def booking_for(i: int):
        return lambda session: services.book_slot(
            session, world.patient_actor(i), world.requests[i], slot, now=NOW,
            patient_id=world.patients[i])

    outcomes = _race(booking_engine, [booking_for(i) for i in range(RACERS)])

    assert outcomes == Counter({"booked": 1, "SlotTaken": RACERS - 1})
    assert active_per_slot(booking_engine) == {slot: 1}


def test_holds_and_bookings_racing_for_one_slot_leave_one_occupant(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=20)
    slot = world.slots["S2-XR1"][2]

    def attempt_for(i: int):
        if i % 2:
            return lambda session: services.hold_slot(
                session, world.patient_actor(i), world.requests[i], slot, now=NOW,
                hold_minutes=10)
        return lambda session: services.book_slot(
            session, world.patient_actor(i), world.requests[i], slot, now=NOW)

    outcomes = _race(booking_engine, [attempt_for(i) for i in range(20)])

    assert outcomes["booked"] == 1
    assert active_per_slot(booking_engine) == {slot: 1}


@pytest.fixture
def booked_world(booking_engine: Engine, tiny_network, tiny_catalogue):
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)
    with transaction(booking_engine) as session:
        booked = services.book_slot(session, CLERK, world.requests[0], world.slots["S1-XR1"][0],
                                    now=NOW)
    return world, booked


def test_rescheduling_books_the_new_slot_and_frees_the_old(booked_world) -> None:
    world, booked = booked_world
    new_slot = world.slots["S2-XR1"][3]

    with transaction(world.engine) as session:
        moved = flows.reschedule(session, CLERK, booked.id, new_slot, reason="nearer home",
                                 now=NOW)

    assert active_per_slot(world.engine) == {new_slot: 1}
    with transaction(world.engine) as session:
        old = session.get(Appointment, booked.id)
        assert old.state is AppointmentState.CANCELLED
        assert session.get(Slot, world.slots["S1-XR1"][0]).status is SlotStatus.FREE
        assert session.get(Request, world.requests[0]).state is RequestState.APPOINTED
        assert session.get(Appointment, moved.id).state is AppointmentState.BOOKED


def test_a_failure_between_the_steps_of_a_reschedule_leaves_the_booking_intact(
        booked_world, monkeypatch: pytest.MonkeyPatch) -> None:
    world, booked = booked_world
    new_slot = world.slots["S2-XR1"][3]

    def fail_after_releasing(*_args, **_kwargs) -> None:
        raise RuntimeError("injected failure between releasing the old slot and taking the new")

    monkeypatch.setattr(flows, "_take_new", fail_after_releasing)
    with pytest.raises(RuntimeError, match="injected"), transaction(world.engine) as session:
        flows.reschedule(session, CLERK, booked.id, new_slot, reason="nearer home", now=NOW)

    assert active_per_slot(world.engine) == {world.slots["S1-XR1"][0]: 1}
    with transaction(world.engine) as session:
        assert session.get(Appointment, booked.id).state is AppointmentState.BOOKED
        assert session.get(Slot, new_slot).status is SlotStatus.FREE


def test_rescheduling_onto_a_taken_slot_leaves_the_booking_intact(booked_world) -> None:
    world, booked = booked_world
    taken = world.slots["S2-XR1"][0]
    with transaction(world.engine) as session:
        services.book_slot(session, CLERK, world.requests[1], taken, now=NOW)

    with pytest.raises(SlotTaken), transaction(world.engine) as session:
        flows.reschedule(session, CLERK, booked.id, taken, reason="nearer home",
                         now=NOW + timedelta(minutes=1))

    assert active_per_slot(world.engine) == {world.slots["S1-XR1"][0]: 1, taken: 1}


def test_the_database_itself_refuses_overlapping_appointments_in_a_room(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    if booking_engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint on room time ranges is PostgreSQL's (btree_gist)")
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=2,
                        slot_minutes=5)
    first, second = world.slots["S1-XR1"][:2]

    def raw_appointment(request: int, slot: int, minutes: int) -> Appointment:
        with transaction(booking_engine) as session:
            start = session.get(Slot, slot).start_at
        return Appointment(request_id=world.requests[request], slot_id=slot,
                           patient_id=world.patients[request], channel=CLERK.channel,
                           state=AppointmentState.BOOKED, room_id="S1-XR1", start_at=start,
                           end_at=start + timedelta(minutes=minutes))

    with transaction(booking_engine) as session:
        session.add(raw_appointment(0, first, 10))
    with pytest.raises(DBAPIError) as refused, transaction(booking_engine) as session:
        session.add(raw_appointment(1, second, 5))

    assert refused.value.orig.sqlstate == "23P01"  # exclusion violation

    assert active_per_slot(booking_engine) == {first: 1}
