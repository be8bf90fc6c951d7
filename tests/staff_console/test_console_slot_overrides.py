"""Booking a time the slot rules refuse: the clerk sees the times an override could open and
the rules in the way; a rule only a radiologist may set aside needs one recorded on the
request first (from its page); the booking then checks every rule again with exactly those
overrides, and who set what aside, and why, shows on the request's audit trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from booking_api.appointments.models import Appointment
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, SlotStatus
from pages_common.rendering import LONDON
from tests.staff_console.console_world import ConsoleWorld, add_windowed_request
from tests.staff_console.staff_client import StaffClient

REFUSED_CHOICE = re.compile(r'action="/staff/requests/\d+/book/choose-refused".*?'
                            r'name="slot" value="(\d+)"', re.S)


def later_free_slot(world: ConsoleWorld, days_after: int = 3) -> int:
    """A free slot some days after the windowed requests' window closed."""
    day = world.portal.first_day + timedelta(days=days_after)
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    engine = open_engine(world.url)
    try:
        with transaction(engine) as session:
            return session.scalar(select(Slot.id).where(
                Slot.status == SlotStatus.FREE, Slot.start_at >= start,
                Slot.start_at < start + timedelta(days=1)).order_by(Slot.start_at))
    finally:
        engine.dispose()


def booked_for(world: ConsoleWorld, request_id: int) -> list[Appointment]:
    engine = open_engine(world.url)
    try:
        with transaction(engine) as session:
            return list(session.scalars(select(Appointment).where(
                Appointment.request_id == request_id,
                Appointment.state == AppointmentState.BOOKED)))
    finally:
        engine.dispose()


def set_aside_by_radiologist(staff: StaffClient, request_id: int) -> None:
    staff.sign_in("vetting")
    staff.get(f"/staff/requests/{request_id}")
    staff.post(f"/staff/requests/{request_id}/overrides", {
        "rule": "slot:clinical-window", "override-role": "radiologist",
        "override-reason": "clinically fine to scan after the window"})
    assert "Slot rule clinical-window set aside for this request" in staff.last.text
    staff.post("/staff/sign-out")


def test_the_clerk_sees_refused_times_and_the_rule_in_the_way(
        staff: StaffClient, world: ConsoleWorld) -> None:
    request_id = add_windowed_request(world.url, world.portal.first_day)
    staff.sign_in("clerk")
    page = staff.get(f"/staff/requests/{request_id}/book?order=soonest&refused=yes")
    assert page.status_code == 200
    assert "Times the slot rules refuse" in page.text
    assert "clinical-window" in page.text
    assert "Only a radiologist may set it aside" in page.text
    assert not REFUSED_CHOICE.search(page.text), "no rule is set aside: nothing to choose"


def test_a_clerk_cannot_book_past_a_rule_only_a_radiologist_may_set_aside(
        staff: StaffClient, world: ConsoleWorld) -> None:
    request_id = add_windowed_request(world.url, world.portal.first_day)
    staff.sign_in("clerk")
    staff.get(f"/staff/requests/{request_id}/book?refused=yes")
    staff.post(f"/staff/requests/{request_id}/book/choose-refused",
               {"slot": later_free_slot(world)})
    assert staff.path().endswith("/book/confirm")
    answer = staff.post(f"/staff/requests/{request_id}/book/confirm",
                        {"reason": "patient asked for a later date"})
    assert answer.status_code == 400
    assert 'href="#rules"' in answer.text
    assert "Rule clinical-window cannot be set aside by a clerk" in answer.text
    assert booked_for(world, request_id) == []


def test_a_clerk_may_not_set_aside_a_radiologists_slot_rule_on_the_request(
        staff: StaffClient, world: ConsoleWorld) -> None:
    request_id = add_windowed_request(world.url, world.portal.first_day)
    staff.sign_in("clerk")
    page = staff.get(f"/staff/requests/{request_id}")
    assert 'value="slot:clinical-window"' not in page.text
    answer = staff.post(f"/staff/requests/{request_id}/overrides", {
        "rule": "slot:clinical-window", "override-reason": "patient asked"})
    assert answer.status_code == 403 and "clinical-window" in answer.text
    assert "a clerk may not override it" in answer.text


def test_a_radiologists_override_on_the_request_lets_the_clerk_book_with_a_reason(
        staff: StaffClient, world: ConsoleWorld) -> None:
    request_id = add_windowed_request(world.url, world.portal.first_day)
    set_aside_by_radiologist(staff, request_id)
    staff.sign_in("clerk")
    page = staff.get(f"/staff/requests/{request_id}/book?refused=yes")
    assert "Set aside by vetting:t.vetting (radiologist)" in page.text
    slot_id = int(REFUSED_CHOICE.search(page.text).group(1))
    staff.post(f"/staff/requests/{request_id}/book/choose-refused", {"slot": slot_id})
    confirm = staff.last
    assert "Slot rules set aside" in confirm.text
    assert "clinically fine to scan after the window" in confirm.text

    staff.post(f"/staff/requests/{request_id}/book/confirm",
               {"reason": "booked by phone after the window, as the radiologist agreed"})

    assert staff.path() == f"/staff/requests/{request_id}"
    assert "Booked with the rules set aside recorded" in staff.last.text
    [appointment] = booked_for(world, request_id)
    assert appointment.slot_id == slot_id
    assert ("Rule set aside: clinical-window (by vetting:t.vetting as radiologist): "
            "clinically fine to scan after the window") in staff.last.text
    assert "Rule set aside: slot rule clinical-window (radiologist, vetting:t.vetting)" \
        in staff.last.text


def test_a_time_booked_this_way_is_checked_again_at_booking(
        staff: StaffClient, world: ConsoleWorld) -> None:
    """Set aside one rule, every other still applies: a slot already taken is refused."""
    request_id = add_windowed_request(world.url, world.portal.first_day)
    other = add_windowed_request(world.url, world.portal.first_day)
    for each in (request_id, other):
        set_aside_by_radiologist(staff, each)
    staff.sign_in("clerk")
    slot_id = later_free_slot(world, days_after=4)
    for each in (request_id, other):
        staff.get(f"/staff/requests/{each}/book?refused=yes")
        staff.post(f"/staff/requests/{each}/book/choose-refused", {"slot": slot_id})
        staff.post(f"/staff/requests/{each}/book/confirm", {"reason": "by phone"})
    assert len(booked_for(world, request_id)) == 1
    assert booked_for(world, other) == []
    assert "Not booked:" in staff.last.text
