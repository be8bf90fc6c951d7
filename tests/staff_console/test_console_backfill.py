"""Backfill in the console: clerks list the freed slots, read a slot's offer trail in ranked
order with the reasons, and stop its offers or offer it to one chosen request, each with a
reason; bad input is named on the page and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from booking_api.appointments.services import book_slot, cancel_appointment
from booking_api.audit.services import Actor
from booking_api.backfill.flows import run_wave
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.read_models import freed_slots, trail
from booking_api.core.channel import Channel
from booking_api.core.errors import BookingError
from booking_api.database import open_database
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from domain.lifecycle import RequestState, SlotStatus
from tests.booking_api.backfill_support import NO_QUIET
from tests.booking_api.outbox_support import email_of, phone_of, set_contact
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient

CLERK = Actor("clerk:setup", Channel.CLERK, role="clerk")


def offered_slot(url: str) -> int:
    """A booking (patients reachable by text and email) cancelled and its first wave sent,
    one offer at a time; the freed slot's id."""
    policy = OfferPolicy(quiet_hours=NO_QUIET, wave_size=1)
    db = open_database(url, offers=policy)
    now = datetime.now(UTC)
    try:
        with db.transaction() as session:
            patients = session.scalars(select(Patient.id).order_by(Patient.id)).all()
            request_id = session.scalars(select(Request.id).where(
                Request.state == RequestState.APPOINTABLE).order_by(Request.id)).first()
            free = session.scalars(select(Slot.id).where(
                Slot.status == SlotStatus.FREE, Slot.start_at > now + timedelta(days=1))
                .order_by(Slot.start_at.desc())).all()
        for index, patient_id in enumerate(patients):
            set_contact(db.engine, patient_id, ContactPreference.BOTH, phone=phone_of(index),
                        email=email_of(index))
        slot, appointment = _book_any(db, request_id, free, now)
        with db.transaction() as session:
            cancel_appointment(session, CLERK, appointment, "cannot come", now=now)
        [freed] = [f for f in freed_slots(db) if f.slot_id == slot and f.state == "pending"]
        run_wave(db, freed.id, now, policy)
        return freed.id
    finally:
        db.dispose()


def _book_any(db, request_id: int, slots: list[int], now: datetime) -> tuple[int, int]:
    """The first of `slots` the request may take, booked: (slot, appointment)."""
    for slot in slots:
        try:
            with db.transaction() as session:
                return slot, book_slot(session, CLERK, request_id, slot, now=now).id
        except BookingError:
            continue
    raise AssertionError("no slot the request may take")


def _state(world: ConsoleWorld, freed_id: int) -> str:
    db = open_database(world.url)
    try:
        return trail(db, freed_id).freed.state
    finally:
        db.dispose()


def test_a_clerk_reads_a_freed_slots_trail_and_stops_its_offers_with_a_reason(
        staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    freed_id = offered_slot(world.url)
    listed = staff.get("/staff/backfill")
    assert listed.status_code == 200 and f'href="/staff/backfill/{freed_id}"' in listed.text
    assert staff.get("/staff/backfill?state=nonsense").status_code == 400
    page = staff.get(f"/staff/backfill/{freed_id}")
    assert page.status_code == 200 and "Why in this place" in page.text
    assert "referral" in page.text and "offered" in page.text
    missing = staff.post(f"/staff/backfill/{freed_id}/stop", {"stop-reason": ""})
    assert missing.status_code == 400 and 'href="#stop-reason"' in missing.text
    assert _state(world, freed_id) == "offering"
    staff.post(f"/staff/backfill/{freed_id}/stop", {"stop-reason": "room closing early"})
    assert staff.path() == f"/staff/backfill/{freed_id}"
    assert "The offers are stopped" in staff.last.text
    assert _state(world, freed_id) == "stopped"
    assert "Stop offers" not in staff.last.text
    assert staff.get("/staff/backfill/999999").status_code == 404


def test_a_clerk_offers_a_freed_slot_to_a_chosen_request_and_bad_choices_are_named(
        staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    freed_id = offered_slot(world.url)
    staff.get(f"/staff/backfill/{freed_id}")
    unreadable = staff.post(f"/staff/backfill/{freed_id}/redirect",
                            {"request-id": "twelve", "redirect-reason": ""})
    assert unreadable.status_code == 400
    assert 'href="#request-id"' in unreadable.text
    assert 'href="#redirect-reason"' in unreadable.text
    unknown = staff.post(f"/staff/backfill/{freed_id}/redirect",
                         {"request-id": "999999", "redirect-reason": "rang in"})
    assert unknown.status_code == 409 and 'href="#request-id"' in unknown.text
    queued = re.findall(r'href="/staff/requests/(\d+)">Request \d+</a> \([^)]*\)</td>\s*'
                        r'<td[^>]*>[^<]*</td>\s*<td[^>]*>not sent', unknown.text)
    assert queued, "a ranked candidate not yet offered"
    staff.post(f"/staff/backfill/{freed_id}/redirect",
               {"request-id": queued[0], "redirect-reason": "rang and asked for it"})
    assert f"The slot is offered to request {queued[0]}" in staff.last.text
    assert _state(world, freed_id) == "offering"
