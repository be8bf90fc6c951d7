"""Timestamps are stored as UTC instants and read back timezone-aware, across clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from booking_api.core.db import transaction
from booking_api.slots.models import Slot

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize("local_start", [
    datetime(2026, 3, 29, 9, 0, tzinfo=LONDON),   # first morning of British Summer Time
    datetime(2026, 10, 25, 9, 0, tzinfo=LONDON),  # first morning back on GMT
])
def test_local_time_is_stored_as_the_same_instant_in_utc(
    engine: Engine, one_slot: dict[str, int], local_start: datetime
) -> None:
    with transaction(engine) as session:
        slot = session.get(Slot, one_slot["slot"])
        slot.start_at, slot.end_at = local_start, local_start + timedelta(minutes=10)

    with transaction(engine) as session:
        stored = session.exec(select(Slot.start_at).where(Slot.id == one_slot["slot"])).one()

    assert stored == local_start
    assert stored.tzinfo == UTC


def test_a_naive_timestamp_is_refused(engine: Engine, one_slot: dict[str, int]) -> None:
    with pytest.raises(Exception, match="timezone"), transaction(engine) as session:
        slot = session.get(Slot, one_slot["slot"])
        slot.start_at = datetime(2026, 12, 7, 9, 0)
