"""Writing a planned week into the diary tables: slots follow each template's pattern, a rebuild
changes only what changed, and never a session with held, booked or blocked slots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from booking_api.appointments import services
from booking_api.core.db import transaction
from booking_api.diary.blocking import block_slot
from booking_api.diary.services import sessions_on, slot_pattern, write_week
from booking_api.network.services import mirror_reference_data
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from domain.lifecycle import SlotStatus
from domain.session_templates import session_templates
from domain.vocabulary import ExamFamily, SessionPeriod
from optimiser import RoomSession
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    add_patients,
    booking_engine,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]

LONDON = ZoneInfo("Europe/London")
WEEK = date(2026, 12, 7)
TEMPLATES = session_templates()
SITES = {"S1-XR1": "S1", "S1-CT1": "S1", "S2-XR1": "S2"}
MONDAY_XR = RoomSession("S1-XR1", "S1", WEEK, SessionPeriod.MORNING, "XR_PLAIN_GEN")
SHORT_LIST = replace(TEMPLATES["XR_PLAIN_GEN"], template_id="XR_SHORT",
                     capacity=((ExamFamily.XR_PLAIN, 12),), slot_minutes=20)


@pytest.fixture
def engine(booking_engine: Engine, tiny_network, tiny_catalogue) -> Engine:
    with transaction(booking_engine) as session:
        mirror_reference_data(session, tiny_network, tiny_catalogue)
    return booking_engine


def _write(engine: Engine, planned, templates=TEMPLATES):
    with transaction(engine) as session:
        return write_week(session, WEEK, planned, templates, SITES, LONDON, NOW)


def _slots(engine: Engine, room: str = "S1-XR1") -> list[Slot]:
    with transaction(engine) as session:
        return list(session.scalars(select(Slot).where(Slot.room_id == room)
                                    .order_by(Slot.start_at)))


def test_a_session_becomes_slots_laid_out_by_its_template(engine) -> None:
    report = _write(engine, [MONDAY_XR])
    slots = _slots(engine)
    assert report.sessions_created == 1 and report.slots_created == 24
    assert [s.families for s in slots] == ["XR_PLAIN"] * 24
    assert slots[0].start_at.replace(tzinfo=UTC) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert slots[-1].end_at.replace(tzinfo=UTC) == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert {s.template_id for s in slots} == {"XR_PLAIN_GEN"}


def test_slot_times_are_local_sessions_stored_in_utc_across_the_clock_change() -> None:
    summer = slot_pattern(TEMPLATES["XR_PLAIN_GEN"], date(2027, 3, 29), SessionPeriod.MORNING,
                          LONDON)
    assert summer[0].start_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)


def test_mixed_templates_lay_their_families_out_in_order() -> None:
    slots = slot_pattern(TEMPLATES["CT_MIXED"], WEEK, SessionPeriod.AFTERNOON, LONDON)
    assert [s.family for s in slots] == ["CT_PLAIN"] * 6 + ["CT_CONTRAST"] * 6
    assert (slots[1].start_at - slots[0].start_at).seconds == 20 * 60


def test_rewriting_the_same_plan_changes_nothing(engine) -> None:
    _write(engine, [MONDAY_XR])
    before = [(s.id, s.version) for s in _slots(engine)]
    report = _write(engine, [MONDAY_XR])
    assert report.sessions_unchanged == 1 and report.slots_created == 0
    assert [(s.id, s.version) for s in _slots(engine)] == before


def test_a_new_template_updates_slots_in_place_and_withdraws_the_rest(engine) -> None:
    _write(engine, [MONDAY_XR])
    first_id = _slots(engine)[0].id
    report = _write(engine, [replace(MONDAY_XR, template_id="XR_SHORT")],
                    {**TEMPLATES, "XR_SHORT": SHORT_LIST})
    live = [s for s in _slots(engine) if s.status is SlotStatus.FREE]
    assert report.sessions_changed == 1
    assert len(live) == 12 and live[0].id == first_id
    assert report.slots_withdrawn == 12


def test_a_session_no_longer_planned_is_closed_and_its_slots_withdrawn(engine) -> None:
    _write(engine, [MONDAY_XR])
    report = _write(engine, [])
    assert report.sessions_closed == 1
    assert {s.status for s in _slots(engine)} == {SlotStatus.ENTERED_IN_ERROR}


def _take_first_slot(engine: Engine, how: str) -> int:
    slot = _slots(engine)[0].id
    with transaction(engine) as session:
        _, requests = add_patients(session, 1, "XCHES")
        if how == "book":
            services.book_slot(session, CLERK, requests[0], slot, now=NOW)
        elif how == "hold":
            services.hold_slot(session, CLERK, requests[0], slot, now=NOW, hold_minutes=15)
        else:
            block_slot(session, CLERK, slot, "scanner service", now=NOW)
    return slot


@pytest.mark.parametrize(("how", "word"), [("book", "booked"), ("hold", "held"),
                                           ("block", "blocked")])
def test_a_rebuild_keeps_a_session_with_taken_slots_and_reports_it(engine, how, word) -> None:
    _write(engine, [MONDAY_XR])
    taken = _take_first_slot(engine, how)
    before = {s.id: (s.status, s.version) for s in _slots(engine)}
    report = _write(engine, [replace(MONDAY_XR, template_id="XR_SHORT")],
                    {**TEMPLATES, "XR_SHORT": SHORT_LIST})
    assert len(report.conflicts) == 1
    conflict = report.conflicts[0]
    assert (conflict.room_id, conflict.kept_template, conflict.planned_template) == \
        ("S1-XR1", "XR_PLAIN_GEN", "XR_SHORT")
    assert word in conflict.reason or "patients" in conflict.reason
    assert {s.id: (s.status, s.version) for s in _slots(engine)} == before
    assert before[taken][0] is not SlotStatus.FREE


def test_the_day_view_counts_slots_per_status(engine) -> None:
    _write(engine, [MONDAY_XR])
    _take_first_slot(engine, "book")
    with transaction(engine) as session:
        views = sessions_on(session, "S1", WEEK)
        rows = session.scalars(select(DiarySession)).all()
    assert [(v.room_id, v.template_id) for v in views] == [("S1-XR1", "XR_PLAIN_GEN")]
    assert views[0].slots_by_status == {"busy": 1, "free": 23}
    assert rows[0].status is DiarySessionStatus.OPEN
