"""A site's diary day as the console reads it, on SQLite and PostgreSQL: every room of the
site with its sessions and its slots in time order, each slot free, held, booked or blocked
with aware UTC times, a taken slot with only the exam, initials and request, and the same
few statements however many slots the day holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from booking_api.appointments.services import book_slot, hold_slot
from booking_api.console.diary_view import site_day
from booking_api.core import migrate
from booking_api.core.db import Database
from booking_api.database import open_database
from booking_api.diary.blocking import block_slot
from booking_api.diary.services import write_sessions
from booking_api.network.services import mirror_reference_data
from booking_api.slots.models import Slot
from domain.exams import exam_catalogue
from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.vocabulary import SessionPeriod
from pages_common.rendering import LONDON
from tests.booking_api.booking_world import CLERK, DIARY_DAY, NOW, add_patients

SITE = "UHB-QE"
ROOMS = {"UHB-QE-XR1": SITE, "UHB-QE-XR2": SITE}


@pytest.fixture
def diary(database_url: str) -> Iterator[tuple[Database, list[int], list[int]]]:
    """Morning and afternoon X-ray lists in two rooms; in XR1 one slot booked, one held, one
    blocked."""
    migrate.upgrade(database_url)
    db = open_database(database_url)
    with db.transaction() as session:
        mirror_reference_data(session, load_reference_network(), exam_catalogue())
        write_sessions(session, [((room, DIARY_DAY, period), "XR_PLAIN_GEN") for room in ROOMS
                                 for period in (SessionPeriod.MORNING, SessionPeriod.AFTERNOON)],
                       session_templates(), ROOMS, LONDON, NOW)
        _, requests = add_patients(session, 2, "XCHES")
        slots = list(session.scalars(select(Slot.id).where(Slot.room_id == "UHB-QE-XR1")
                                     .order_by(Slot.start_at)))
        book_slot(session, CLERK, requests[0], slots[0], now=NOW)
        hold_slot(session, CLERK, requests[1], slots[2], now=NOW, hold_minutes=10)
        block_slot(session, CLERK, slots[4], "detector service", now=NOW)
    yield db, slots, requests
    db.dispose()


def test_each_room_shows_its_sessions_and_slots_in_time_order(diary) -> None:
    db, slots, _ = diary
    day = site_day(db, SITE, DIARY_DAY)
    shown = {room.room_id: room for room in day.rooms}
    assert {"UHB-QE-XR1", "UHB-QE-XR2"} <= set(shown)
    xr1 = shown["UHB-QE-XR1"]
    assert xr1.sessions == ("morning: XR_PLAIN_GEN", "afternoon: XR_PLAIN_GEN")
    assert [s.slot_id for s in xr1.slots] == slots
    starts = [s.start_at for s in xr1.slots]
    assert starts == sorted(starts) and all(s.tzinfo is not None for s in starts)
    assert starts[0].astimezone(LONDON).date() == DIARY_DAY
    assert all(s.end_at > s.start_at for s in xr1.slots)


def test_taken_slots_show_only_the_exam_initials_and_request(diary) -> None:
    db, slots, requests = diary
    xr1 = {s.slot_id: s for s in next(
        r for r in site_day(db, SITE, DIARY_DAY).rooms if r.room_id == "UHB-QE-XR1").slots}
    assert [xr1[slots[i]].status for i in range(5)] == [
        "booked", "free", "held", "free", "blocked"]
    booked = xr1[slots[0]]
    assert (booked.initials, booked.request_id) == ("T. P.", requests[0])
    assert booked.exam_name and "chest" in booked.exam_name.lower()
    assert xr1[slots[2]].request_id == requests[1]
    assert xr1[slots[1]].request_id is None and xr1[slots[4]].initials is None


def test_a_day_reads_in_the_same_few_statements_however_many_slots(diary) -> None:
    db, _, _ = diary
    statements: list[str] = []

    def note(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        site_day(db, SITE, DIARY_DAY)
        full = len(statements)
        statements.clear()
        site_day(db, SITE, datetime(2026, 12, 8, tzinfo=UTC).date())  # an empty day
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert full == len(statements)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 5
