"""Applying a diary repair through the booking service, on SQLite and PostgreSQL: a dry run
changes nothing; applying moves each patient whose list is lost, once, each told once through
the outbox (MOVED_BY_SERVICE); the lost list keeps no free slot; a booking made while the repair
was being planned is never double-booked (the repair is planned again)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC

import pytest
from sqlalchemy import Engine, func, select

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.appointments.services import book_slot, hold_slot
from booking_api.core.db import transaction
from booking_api.diary.flows import repair_and_apply
from booking_api.diary.models import RepairFollowUp
from booking_api.diary.repairs import apply_repair, open_follow_ups
from booking_api.diary.services import write_sessions
from booking_api.network.services import mirror_reference_data
from booking_api.outbox.models import OutboxMessage
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, SlotStatus
from domain.session_templates import session_templates
from domain.vocabulary import SessionPeriod
from optimiser.repair import RepairSettings, RoomDown, Unplaced
from tests.booking_api.booking_world import (
    CLERK,
    DIARY_DAY,
    NOW,
    add_patients,
    booking_engine,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]

SETTINGS = RepairSettings(time_limit_s=5, workers=1)
DOWN = [(None, RoomDown("S1-XR1", DIARY_DAY, DIARY_DAY, "detector fault"))]


@pytest.fixture
def diary(booking_engine: Engine, tiny_network, tiny_catalogue) -> dict:
    """X-ray lists at both sites on DIARY_DAY morning (the template's 24 slots), three
    patients booked in S1-XR1 and one more waiting."""
    templates = session_templates()
    rooms = {room.room_id: room.site_id for room in tiny_network.rooms}
    with transaction(booking_engine) as session:
        mirror_reference_data(session, tiny_network, tiny_catalogue)
        write_sessions(session, [((room, DIARY_DAY, SessionPeriod.MORNING), "XR_PLAIN_GEN")
                                 for room in ("S1-XR1", "S2-XR1")], templates, rooms, UTC, NOW)
        _, requests = add_patients(session, 4, "XCHES")
        slots = {room: list(session.scalars(select(Slot.id).where(Slot.room_id == room)
                                            .order_by(Slot.start_at)))
                 for room in ("S1-XR1", "S2-XR1")}
        booked = [book_slot(session, CLERK, request, slots["S1-XR1"][i * 2], now=NOW).id
                  for i, request in enumerate(requests[:3])]
    return {"booked": booked, "waiting": requests[3], "slots": slots,
            "network": tiny_network, "templates": templates}


def _state(engine: Engine) -> dict:
    with transaction(engine) as session:
        return {
            "appointments": session.execute(select(Appointment.id, Appointment.state,
                                                   Appointment.slot_id)).all(),
            "messages": session.scalar(select(func.count()).select_from(OutboxMessage)),
            "slots": session.execute(select(Slot.id, Slot.status)).all(),
            "follow_ups": session.scalar(select(func.count()).select_from(RepairFollowUp)),
        }


def _repair(engine, diary, dry_run, **options):
    return repair_and_apply(engine, CLERK, diary["network"], diary["templates"],
                            lambda session: DOWN, now=NOW, dry_run=dry_run,
                            settings=SETTINGS, **options)


def test_a_dry_run_shows_the_moves_and_changes_nothing(booking_engine, diary):
    before = _state(booking_engine)
    run = _repair(booking_engine, diary, dry_run=True)
    assert sorted(m.appointment_id for m in run.result.moves) == sorted(diary["booked"])
    assert all(m.target.room_id == "S2-XR1" for m in run.result.moves)
    assert run.applied is None
    assert _state(booking_engine) == before


def test_applying_moves_and_tells_each_patient_once(booking_engine, diary):
    run = _repair(booking_engine, diary, dry_run=False)
    assert run.applied.moved == 3 and run.applied.follow_ups == 0
    with transaction(booking_engine) as session:
        active = session.execute(select(Appointment.room_id, Appointment.request_id).where(
            Appointment.state.in_(ACTIVE_STATES))).all()
        told = Counter((m.previous_appointment_id, m.channel) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "moved_by_service")))
        left_in_s1 = session.execute(select(Slot.status).where(
            Slot.room_id == "S1-XR1")).scalars().all()
    assert sorted(room for room, _ in active) == ["S2-XR1"] * 3
    assert {previous for previous, _ in told} == set(diary["booked"])
    assert set(told.values()) == {1}
    assert SlotStatus.FREE not in left_in_s1


def test_a_booking_made_while_the_repair_is_planned_is_not_double_booked(booking_engine,
                                                                          diary):
    taken = []

    def book_a_target_first(result):
        if taken:
            return
        target = result.moves[0].target
        with transaction(booking_engine) as session:
            slot = session.scalar(select(Slot).where(Slot.room_id == target.room_id,
                                                     Slot.start_at == target.start))
            taken.append(book_slot(session, CLERK, diary["waiting"], slot.id, now=NOW).slot_id)

    run = _repair(booking_engine, diary, dry_run=False, before_apply=book_a_target_first)
    assert run.attempts == 2
    with transaction(booking_engine) as session:
        per_slot = Counter(session.scalars(select(Appointment.slot_id).where(
            Appointment.state.in_(ACTIVE_STATES))))
        moved = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event == "moved_by_service"))
    assert max(per_slot.values()) == 1
    assert per_slot[taken[0]] == 1
    assert run.applied.moved == 3
    assert moved == 3  # one each (a letter: the test patients have no phone or email)


def test_a_hold_on_a_lost_list_ends_so_no_slot_in_the_room_frees_later(booking_engine, diary):
    with transaction(booking_engine) as session:
        hold = hold_slot(session, CLERK, diary["waiting"], diary["slots"]["S1-XR1"][10],
                         now=NOW, hold_minutes=10).id
    _repair(booking_engine, diary, dry_run=False)
    with transaction(booking_engine) as session:
        assert session.get(Appointment, hold).state is AppointmentState.CANCELLED
        statuses = session.scalars(select(Slot.status).where(Slot.room_id == "S1-XR1")).all()
    assert SlotStatus.FREE not in statuses and SlotStatus.BUSY_TENTATIVE not in statuses


def test_a_patient_who_cannot_be_placed_keeps_the_booking_and_goes_to_the_clerks(
        booking_engine, diary):
    """A plan that leaves one patient unplaced (here: the solver's plan with its first move
    turned into an unplaced patient) puts them on the clerks' list and moves the others."""
    run = _repair(booking_engine, diary, dry_run=True)
    first, *others = run.result.moves
    left = Unplaced(first.appointment_id, first.request_id, first.patient_id, first.priority,
                    first.source, True, "clinical-window: Outside the clinical window")
    result = replace(run.result, moves=tuple(others), unplaced=(left,))
    rooms = {room.room_id: room.site_id for room in diary["network"].rooms}
    with transaction(booking_engine) as session:
        applied = apply_repair(session, CLERK, result, templates=diary["templates"],
                               room_sites=rooms, now=NOW, disruption_ids=[7])
    assert (applied.moved, applied.follow_ups) == (2, 1)
    with transaction(booking_engine) as session:
        follow_ups = open_follow_ups(session)
        kept = session.get(Appointment, first.appointment_id)
        assert kept.state is AppointmentState.BOOKED and kept.room_id == "S1-XR1"
    assert [(f.appointment_id, f.reason, f.disruption_ids) for f in follow_ups] == [
        (first.appointment_id, "clinical-window: Outside the clinical window", "7")]
