"""The demo lists only booking references that have a free time to book."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from booking_api.core.db import transaction
from booking_api.demo.bookable import bookable_references
from booking_api.slots.models import Slot
from domain.lifecycle import SlotStatus
from tests.booking_api.booking_world import NOW, booking_engine, build_world, migrated_engine

__all__ = ["booking_engine", "migrated_engine"]


def test_lists_appointable_requests_with_their_earliest_free_time(booking_engine, tiny_network,
                                                                    tiny_catalogue):
    build_world(booking_engine, tiny_network, tiny_catalogue, patients=3)

    found = bookable_references(booking_engine, NOW, limit=2)

    assert len(found) == 2
    assert all(ref.earliest_start > NOW for ref in found)
    assert all(ref.date_of_birth == "17 May 1960" for ref in found)


def test_lists_nothing_when_every_slot_is_blocked(booking_engine, tiny_network, tiny_catalogue):
    build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)
    with transaction(booking_engine) as session:
        session.execute(update(Slot).values(status=SlotStatus.BUSY_UNAVAILABLE))

    assert bookable_references(booking_engine, NOW) == []


def test_lists_nothing_when_the_diaries_are_in_the_past(booking_engine, tiny_network,
                                                          tiny_catalogue):
    build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)

    assert bookable_references(booking_engine, NOW + timedelta(days=30)) == []
