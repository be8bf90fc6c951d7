"""Changing a booking with the new time held first (issue 17, item 2): the hold sits beside
the booking, another patient cannot take the held time, and confirming swaps them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from booking_api.appointments import held_changes, services
from booking_api.core.db import transaction
from booking_api.core.errors import HoldExpired, SlotTaken
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, SlotStatus
from tests.booking_api.booking_world import (
    NOW,
    World,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]

HOLD = 10
REASON = "patient chose a new time online"


@pytest.fixture
def world(booking_engine: Engine, tiny_network, tiny_catalogue) -> World:
    return build_world(booking_engine, tiny_network, tiny_catalogue)


def _booked_and_held(world: World) -> tuple[int, int]:
    old_slot, new_slot = world.slots["S1-XR1"][0], world.slots["S1-XR1"][4]
    with transaction(world.engine) as session:
        booking = services.book_slot(session, world.patient_actor(0), world.requests[0],
                                     old_slot, now=NOW, patient_id=world.patients[0])
    with transaction(world.engine) as session:
        hold = held_changes.hold_for_change(session, world.patient_actor(0), booking.id,
                                            new_slot, None, now=NOW, hold_minutes=HOLD,
                                            patient_id=world.patients[0])
    return booking.id, hold.id


def _states(world: World, *ids: int) -> list[AppointmentState]:
    with transaction(world.engine) as session:
        return [services.get_appointment(session, i).state for i in ids]


def _slot_status(world: World, slot_id: int) -> SlotStatus:
    with transaction(world.engine) as session:
        return session.get(Slot, slot_id).status


def test_a_change_holds_the_new_time_beside_the_active_booking(world) -> None:
    booking, hold = _booked_and_held(world)
    assert _states(world, booking, hold) == [AppointmentState.BOOKED, AppointmentState.HELD]
    assert _slot_status(world, world.slots["S1-XR1"][4]) is SlotStatus.BUSY_TENTATIVE


def test_the_time_held_for_a_change_cannot_be_taken_by_someone_else(world) -> None:
    _booked_and_held(world)
    with pytest.raises(SlotTaken), transaction(world.engine) as session:
        services.book_slot(session, world.patient_actor(1), world.requests[1],
                           world.slots["S1-XR1"][4], now=NOW + timedelta(minutes=1),
                           patient_id=world.patients[1])


def test_confirming_the_change_books_the_hold_and_frees_the_old_time(world) -> None:
    booking, hold = _booked_and_held(world)
    with transaction(world.engine) as session:
        held_changes.move_to_held_time(session, world.patient_actor(0), booking, hold,
                                       reason=REASON, now=NOW + timedelta(minutes=2),
                                       patient_id=world.patients[0])
    assert _states(world, booking, hold) == [AppointmentState.CANCELLED,
                                             AppointmentState.BOOKED]
    assert _slot_status(world, world.slots["S1-XR1"][0]) is SlotStatus.FREE
    assert _slot_status(world, world.slots["S1-XR1"][4]) is SlotStatus.BUSY


def test_a_lapsed_change_hold_leaves_the_booking_as_it_was(world) -> None:
    booking, hold = _booked_and_held(world)
    with pytest.raises(HoldExpired), transaction(world.engine) as session:
        held_changes.move_to_held_time(session, world.patient_actor(0), booking, hold,
                                       reason=REASON, now=NOW + timedelta(minutes=HOLD + 1),
                                       patient_id=world.patients[0])
    assert _states(world, booking)[0] is AppointmentState.BOOKED
    assert _slot_status(world, world.slots["S1-XR1"][0]) is SlotStatus.BUSY
