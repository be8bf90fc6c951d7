"""Changing a booking with the new time held while the patient checks it, as booking does:
one hold beside the active booking, taken for the same request (the booking it replaces is
named, so it neither blocks the hold nor counts as a clash), then the move that turns the
hold into the booking and releases the old one, in the caller's transaction. Without the
hold the new time could be lost at the last step."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from booking_api.appointments import services
from booking_api.appointments.changes import (
    AppointmentChange,
    FreedBy,
    note_appointment_change,
    note_slot_freed,
)
from booking_api.appointments.flows import HOLD_RELEASED
from booking_api.appointments.models import Appointment
from booking_api.appointments.taking import (
    Claim,
    is_stale_hold,
    mark_slots,
    release,
    slots_of,
    take_slot,
)
from booking_api.audit.services import Actor, record_audit
from booking_api.core.columns import utc_now
from booking_api.core.errors import ChangeRefused, HoldExpired
from domain.lifecycle import AppointmentState, SlotStatus


def hold_for_change(session: Session, actor: Actor, booking_id: int, slot_id: int,
                    previous_hold: int | None, *, now: datetime, hold_minutes: int,
                    patient_id: int | None = None) -> Appointment:
    """Hold `slot_id` as the new time of booking `booking_id`, letting go of the time this
    change held before; the booking itself stays as it is."""
    booking = _booked(session, booking_id, patient_id)
    if previous_hold:
        held = services.get_appointment(session, previous_hold, patient_id)
        if held.state is AppointmentState.HELD:
            services.cancel_appointment(session, actor, previous_hold, HOLD_RELEASED, now=now,
                                        patient_id=patient_id)
    claim = Claim(booking.request_id, slot_id, AppointmentState.HELD,
                  held_until=now + timedelta(minutes=hold_minutes), replacing=booking.id,
                  patient_id=patient_id)
    hold = take_slot(session, actor, claim, now).appointment
    record_audit(session, actor, "appointment.held", "appointment", hold.id or 0,
                 after={"state": hold.state.value, "slot_id": hold.slot_id,
                        "request_id": hold.request_id, "replaces": booking.id})
    return hold


def move_to_held_time(session: Session, actor: Actor, booking_id: int, hold_id: int, *,
                      reason: str, now: datetime, patient_id: int | None = None
                      ) -> Appointment:
    """Book the live hold in place of the booking: the old time is released and noted as
    freed, the hold becomes the booking, and the patient hears of it once, as a change.
    An expired hold is refused (HoldExpired) and the booking stays as it was."""
    reason = services.required_text(reason, "reason")
    old = _booked(session, booking_id, patient_id, lock=True)
    hold = services.locked_appointment(session, hold_id, patient_id)
    if hold.state is not AppointmentState.HELD or hold.request_id != old.request_id:
        raise ChangeRefused(f"appointment {hold_id} is not a held new time for booking "
                            f"{booking_id}", "appointment_id")
    if is_stale_hold(hold, now):
        raise HoldExpired(hold.id or 0)
    old.state = AppointmentState.CANCELLED
    old.cancelled_at = now
    old.cancel_reason = f"rescheduled: {reason}"
    session.add(old)
    release(session, old)
    hold.state = AppointmentState.BOOKED
    hold.booked_at = now
    hold.held_until = None
    hold.updated_at = utc_now()
    session.add(hold)
    mark_slots(session, slots_of(session, hold), SlotStatus.BUSY)
    record_audit(session, actor, "appointment.rescheduled_from", "appointment", old.id or 0,
                 before={"state": AppointmentState.BOOKED.value, "slot_id": old.slot_id},
                 after={"state": old.state.value, "replaced_by": hold.id}, reason=reason)
    record_audit(session, actor, "appointment.rescheduled_to", "appointment", hold.id or 0,
                 before={"state": AppointmentState.HELD.value},
                 after={"state": hold.state.value, "slot_id": hold.slot_id, "replaces": old.id})
    assert old.start_at is not None
    note_slot_freed(session, old.slot_id, old.start_at, now, FreedBy.CHANGED, old.id)
    note_appointment_change(session, AppointmentChange.MOVED, hold, now, previous_id=old.id)
    return hold


def _booked(session: Session, booking_id: int, patient_id: int | None, *,
            lock: bool = False) -> Appointment:
    booking = (services.locked_appointment(session, booking_id, patient_id) if lock
               else services.get_appointment(session, booking_id, patient_id))
    if booking.state is not AppointmentState.BOOKED:
        raise ChangeRefused(f"appointment {booking_id} is {booking.state.value}; only a booked "
                            "appointment can be changed", "appointment_id")
    return booking
