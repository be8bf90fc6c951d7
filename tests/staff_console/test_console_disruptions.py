"""Disruptions from the console (issue 15's page): a manager records one (checked by field,
nothing kept when wrong), sees the repair's dry run (who would move where, nothing changed),
applies it (the booked patient moved and told, the room's list withdrawn, audited), and
withdraws one with a reason; clerks see the list and nothing more."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from booking_api.appointments import flows as booking
from booking_api.appointments.models import Appointment
from booking_api.audit.models import AuditEvent
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.diary.models import RepairFollowUp
from booking_api.diary.services import write_sessions
from booking_api.outbox.models import OutboxMessage
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, SlotStatus
from domain.session_templates import session_templates
from domain.vocabulary import SessionPeriod
from pages_common.rendering import LONDON
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient

ROOM, SITE = "UHB-WWH-XR1", "UHB-WWH"
XRAY_ROOMS = {"UHB-WWH-XR1": "UHB-WWH", "UHB-QE-XR1": "UHB-QE", "UHB-HGH-XR1": "UHB-HGH"}
TEMPLATE_DAYS = 12
"""Days after the world's first diary day where the tests lay out template-shaped lists (the
world's own hand-made lists end before)."""
CLERK = Actor("clerk:t.clerk", Channel.CLERK, "clerk")


def book_in_room(world: ConsoleWorld, patient: int, day: date) -> int:
    """Lay the three X-ray rooms' morning lists out as their template does that day (the
    repair plans in the template's slots), then book a portal patient into the room's first
    free slot; the appointment id."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    engine = open_engine(world.url)
    try:
        with transaction(engine) as session:
            write_sessions(session, [((room, day, SessionPeriod.MORNING), "XR_PLAIN_GEN")
                                     for room in XRAY_ROOMS], session_templates(),
                           XRAY_ROOMS, LONDON, datetime.now(UTC))
        with transaction(engine) as session:
            slot_id = session.scalar(select(Slot.id).where(
                Slot.room_id == ROOM, Slot.status == SlotStatus.FREE, Slot.start_at >= start,
                Slot.start_at < start + timedelta(days=1)).order_by(Slot.start_at))
            booked = booking.book_on_behalf(
                session, CLERK, world.portal.patients[patient].request_id, slot_id,
                reason="test booking", now=datetime.now(UTC))
            return booked.id
    finally:
        engine.dispose()


def appointment(world: ConsoleWorld, appointment_id: int) -> Appointment:
    engine = open_engine(world.url)
    try:
        with transaction(engine) as session:
            return session.get(Appointment, appointment_id)
    finally:
        engine.dispose()


def rows(world: ConsoleWorld, query) -> list:
    engine = open_engine(world.url)
    try:
        with transaction(engine) as session:
            return list(session.scalars(query))
    finally:
        engine.dispose()


def record_room_down(staff: StaffClient, day: date, reason: str = "tube failed") -> str:
    staff.get("/staff/disruptions/new")
    staff.post("/staff/disruptions", {"kind": "room_down", "room_id": ROOM,
                                      "first_day": day.isoformat(), "reason": reason})
    assert re.fullmatch(r"/staff/disruptions/\d+", staff.path()), staff.last.text[:500]
    return staff.path()


def test_a_clerk_sees_disruptions_but_cannot_record_one(staff: StaffClient) -> None:
    staff.sign_in("clerk")
    page = staff.get("/staff/disruptions")
    assert page.status_code == 200 and "Record a disruption" not in page.text
    assert 'href="/staff/disruptions"' in page.text  # in the navigation
    assert staff.get("/staff/disruptions/new").status_code == 403
    staff.get("/staff/disruptions")
    assert staff.post("/staff/disruptions", {"kind": "room_down", "room_id": ROOM,
                                             "first_day": "2099-01-01",
                                             "reason": "x"}).status_code == 403


def test_a_manager_records_a_disruption_and_it_is_listed_and_audited(
        staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("manager")
    day = world.portal.first_day + timedelta(days=5)
    detail = record_room_down(staff, day, "detector fault")
    assert "Disruption" in staff.last.text and "recorded" in staff.last.text
    listed = staff.get("/staff/disruptions")
    assert f'href="{detail}"' in listed.text and "detector fault" in listed.text
    added = rows(world, select(AuditEvent).where(AuditEvent.action == "disruption.added",
                                                 AuditEvent.reason == "detector fault"))
    assert len(added) == 1 and added[0].actor == "manager:t.manager"


def test_bad_input_names_the_field_and_keeps_nothing(staff: StaffClient,
                                                     world: ConsoleWorld) -> None:
    staff.sign_in("manager")
    before = len(rows(world, select(AuditEvent).where(
        AuditEvent.action == "disruption.added")))
    cases = [({"kind": "room_down", "first_day": "2099-01-02", "reason": "x"}, "room_id",
              "needs the room"),
             ({"kind": "room_down", "room_id": "NO-SUCH-ROOM", "first_day": "2099-01-02",
               "reason": "x"}, "room_id", "No room"),
             ({"kind": "room_down", "room_id": ROOM, "first_day": "2020-01-02",
               "reason": "x"}, "first_day", "in the past"),
             ({"kind": "room_down", "room_id": ROOM, "first_day": "not a date",
               "reason": "x"}, "first_day", ""),
             ({"room_id": ROOM, "first_day": "2099-01-02", "reason": "x"}, "kind", "")]
    for fields, field, words in cases:
        staff.get("/staff/disruptions/new")
        answer = staff.post("/staff/disruptions", fields)
        assert answer.status_code == 400, fields
        assert staff.title().startswith("Error: ") and f'href="#{field}"' in answer.text, fields
        assert words in answer.text, (fields, words)
    assert len(rows(world, select(AuditEvent).where(
        AuditEvent.action == "disruption.added"))) == before


def test_the_repair_plan_shows_who_would_move_and_changes_nothing(
        staff: StaffClient, world: ConsoleWorld) -> None:
    day = world.portal.first_day + timedelta(days=TEMPLATE_DAYS)
    booked = book_in_room(world, 0, day)
    staff.sign_in("manager")
    detail = record_room_down(staff, day)
    plan = staff.get(f"{detail}/repair")
    assert plan.status_code == 200 and "Nothing has changed yet" in plan.text
    assert "Who would move where" in plan.text
    assert f"request {world.portal.patients[0].request_id}" in plan.text
    still = appointment(world, booked)
    assert still.state is AppointmentState.BOOKED and still.room_id == ROOM


def test_applying_the_repair_moves_and_tells_the_patient_and_closes_the_list(
        staff: StaffClient, world: ConsoleWorld) -> None:
    day = world.portal.first_day + timedelta(days=TEMPLATE_DAYS + 1)
    booked = book_in_room(world, 1, day)
    staff.sign_in("manager")
    detail = record_room_down(staff, day)
    staff.get(f"{detail}/repair")
    answer = staff.post(f"{detail}/repair")
    assert staff.path() == detail and "Repair applied: 1 moved and told" in answer.text
    old = appointment(world, booked)
    assert old.state is not AppointmentState.BOOKED
    [new] = rows(world, select(Appointment).where(
        Appointment.request_id == world.portal.patients[1].request_id,
        Appointment.state == AppointmentState.BOOKED))
    assert new.room_id != ROOM
    assert rows(world, select(OutboxMessage).where(OutboxMessage.appointment_id == new.id))
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    assert not rows(world, select(Slot).where(
        Slot.room_id == ROOM, Slot.status == SlotStatus.FREE, Slot.start_at >= start,
        Slot.start_at < start + timedelta(days=1)))
    assert rows(world, select(AuditEvent).where(AuditEvent.action == "diary.repaired",
                                                AuditEvent.actor == "manager:t.manager"))


def test_a_manager_withdraws_a_disruption_with_a_reason(staff: StaffClient,
                                                        world: ConsoleWorld) -> None:
    staff.sign_in("manager")
    detail = record_room_down(staff, world.portal.first_day + timedelta(days=6))
    missing = staff.post(f"{detail}/revoke", {"revoke-reason": " "})
    assert missing.status_code == 400 and 'href="#revoke-reason"' in missing.text
    staff.get(detail)
    answer = staff.post(f"{detail}/revoke", {"revoke-reason": "reported in error"})
    assert "withdrawn" in answer.text and "revoked by manager:t.manager" in answer.text
    assert "Plan the repair" not in answer.text
    assert staff.get(f"{detail}/repair").status_code == 409



def test_a_patient_a_repair_could_not_move_is_on_the_worklist_until_rebooked(
        staff: StaffClient, world: ConsoleWorld) -> None:
    day = world.portal.first_day + timedelta(days=TEMPLATE_DAYS + 2)
    booked = book_in_room(world, 3, day)
    request_id = world.portal.patients[3].request_id
    engine = open_engine(world.url)
    try:
        with transaction(engine) as session:
            session.add(RepairFollowUp(appointment_id=booked, request_id=request_id,
                                       reason="no X-ray slot within reach in time"))
    finally:
        engine.dispose()
    staff.sign_in("clerk")
    listed = staff.get("/staff/worklist")
    assert "Patients a diary repair could not move (1)" in listed.text
    assert f"Rebook request {request_id}" in listed.text
    assert "no X-ray slot within reach in time" in listed.text

    page = staff.get(f"/staff/requests/{request_id}/book")
    slot_id = re.search(r'name="slot" value="(\d+)"', page.text).group(1)
    staff.post(f"/staff/requests/{request_id}/book/choose", {"slot": slot_id})
    staff.post(f"/staff/requests/{request_id}/book/confirm", {"reason": "rebooked by phone"})

    assert f"Rebook request {request_id}" not in staff.get("/staff/worklist").text
