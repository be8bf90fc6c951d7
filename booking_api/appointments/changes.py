"""What happened to an appointment that its patient should hear about, noted on the session
(`core.changes`) by the services and flows that make the change. The outbox, a context above
this one, turns each into messages as the transaction commits; this context does not know it
exists. Holds the patient lets go of, and outcomes, are not noted: nobody is told about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from booking_api.appointments.models import Appointment
from booking_api.core.changes import note_change
from booking_api.requests.models import Request


class AppointmentChange(StrEnum):
    BOOKED = "booked"
    MOVED = "moved"
    """Rescheduled: the new appointment replaces `previous_id` (one message, not a
    cancellation and a booking)."""
    CANCELLED = "cancelled"
    HOLD_EXPIRED = "hold_expired"
    """A time held for the patient by someone else (a clerk, an offer) lapsed unbooked."""


@dataclass(frozen=True)
class AppointmentChanged:
    change: AppointmentChange
    appointment_id: int
    request_id: int
    patient_id: int
    exam_code: str
    start_at: datetime
    at: datetime
    """When the change was made (the operation's `now`)."""
    previous_id: int | None = None
    by_service: bool = False
    """Made by the service for its own reasons (a room closed), not at the patient's
    request: the message apologises."""


def note_appointment_change(session: Session, change: AppointmentChange,
                            appointment: Appointment, now: datetime, *,
                            request: Request | None = None, previous_id: int | None = None,
                            by_service: bool = False) -> None:
    """Note `change` to `appointment` for the outbox (written as the transaction commits)."""
    if request is None:
        request = session.get(Request, appointment.request_id)  # loaded already: no query
    assert request is not None and appointment.id is not None
    assert appointment.start_at is not None
    note_change(session, AppointmentChanged(
        change=change, appointment_id=appointment.id, request_id=appointment.request_id,
        patient_id=appointment.patient_id, exam_code=request.exam_code,
        start_at=appointment.start_at, at=now, previous_id=previous_id,
        by_service=by_service))


class FreedBy(StrEnum):
    """Why a slot came free: the backfill trail names it. Stable codes (stored)."""

    PATIENT = "patient_cancelled"
    CLERK = "clerk_cancelled"
    SMS = "sms_cancelled"
    SERVICE = "service_cancelled"
    CHANGED = "changed"
    """The patient (or a clerk for them) moved to another time."""
    REPAIR = "repair"
    """The service moved the patient (a diary repair, a room closed)."""
    HOLD_LAPSED = "hold_lapsed"
    UNBLOCKED = "unblocked"
    OFFER_TAKEN = "offer_taken"
    """A patient booked later took an earlier offered slot: their old one is free (a
    backfill cascade)."""


@dataclass(frozen=True)
class SlotFreed:
    """A slot that was taken (booked, held, blocked) and is free again, which backfill (a
    context above) may offer to waiting patients."""

    slot_id: int
    start_at: datetime
    at: datetime
    cause: FreedBy
    appointment_id: int | None = None
    """The appointment that let it go, if any."""


def note_slot_freed(session: Session, slot_id: int, start_at: datetime, now: datetime,
                    cause: FreedBy, appointment_id: int | None = None) -> None:
    """Note that `slot_id` came free for backfill (acted on as the transaction commits)."""
    note_change(session, SlotFreed(slot_id, start_at, now, cause, appointment_id))


def freed_by_cancelling(channel: str, by_service: bool) -> FreedBy:
    """The cause of a booking's cancellation from the channel it came through."""
    if by_service:
        return FreedBy.SERVICE
    return {"portal": FreedBy.PATIENT, "sms": FreedBy.SMS}.get(str(channel), FreedBy.CLERK)
