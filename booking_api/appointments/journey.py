"""The steps of a patient's booking journey as the pages call them: each one transaction of
its own over the `Database`, committed or rolled back before it returns, answering with ids
and frozen values, never ORM rows. Refusals are the service's own errors (`core.errors`).
The JSON API reaches the same services through its routes; both take slots the one way
`taking` documents."""

from __future__ import annotations

from datetime import datetime

from booking_api.appointments import flows, held_changes, services
from booking_api.audit.services import Actor
from booking_api.core.db import Database

HOLD_EXTENSIONS_ALLOWED = services.HOLD_EXTENSIONS_ALLOWED


def hold_time(db: Database, actor: Actor, patient_id: int, request_id: int, slot_id: int, *,
              previous_hold: int | None, now: datetime, hold_minutes: int) -> int:
    """Hold the slot for the patient's request, letting go of the time this journey held
    before (`flows.hold_instead`); returns the new hold's id."""
    with db.transaction() as session:
        hold = flows.hold_instead(session, actor, request_id, slot_id, previous_hold,
                                  now=now, hold_minutes=hold_minutes, patient_id=patient_id)
        assert hold.id is not None
        return hold.id


def extend_held_time(db: Database, actor: Actor, patient_id: int, hold_id: int, *,
                     now: datetime, hold_minutes: int) -> None:
    with db.transaction() as session:
        services.extend_hold(session, actor, hold_id, now=now, hold_minutes=hold_minutes,
                             patient_id=patient_id)


def book_held_time(db: Database, actor: Actor, patient_id: int, hold_id: int, *,
                   now: datetime) -> None:
    with db.transaction() as session:
        services.book_hold(session, actor, hold_id, now=now, patient_id=patient_id)


def move_booking(db: Database, actor: Actor, patient_id: int, appointment_id: int,
                 slot_id: int, *, reason: str, now: datetime) -> None:
    """Book the new time and release the old in one transaction (`flows.reschedule`)."""
    with db.transaction() as session:
        flows.reschedule(session, actor, appointment_id, slot_id, reason=reason, now=now,
                         patient_id=patient_id)


def cancel_booking(db: Database, actor: Actor, patient_id: int, appointment_id: int,
                   reason: str, *, now: datetime) -> None:
    with db.transaction() as session:
        services.cancel_appointment(session, actor, appointment_id, reason, now=now,
                                    patient_id=patient_id)


def hold_new_time(db: Database, actor: Actor, patient_id: int, booking_id: int, slot_id: int,
                  *, previous_hold: int | None, now: datetime, hold_minutes: int) -> int:
    """Hold a new time for a change of booking (`held_changes`); returns the hold's id."""
    with db.transaction() as session:
        hold = held_changes.hold_for_change(session, actor, booking_id, slot_id, previous_hold,
                                            now=now, hold_minutes=hold_minutes,
                                            patient_id=patient_id)
        assert hold.id is not None
        return hold.id


def move_to_held_time(db: Database, actor: Actor, patient_id: int, booking_id: int,
                      hold_id: int, *, reason: str, now: datetime) -> None:
    """Book the held new time in place of the booking, in one transaction."""
    with db.transaction() as session:
        held_changes.move_to_held_time(session, actor, booking_id, hold_id, reason=reason,
                                       now=now, patient_id=patient_id)
