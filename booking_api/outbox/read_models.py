"""What the pages show about messages, as frozen values read in one short session: which
messages an appointment will get (so the confirmation page says only what is true), and the
"add to calendar" file, made by the same code as the emailed invites (same UID, SEQUENCE,
description), with METHOD:PUBLISH."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.appointments.models import Appointment
from booking_api.appointments.services import own_request
from booking_api.core.config import Settings
from booking_api.core.db import Database
from booking_api.outbox.composing import (
    booking_sequence,
    exam_ends,
    patient_reached_by,
    site_of_appointment,
    venue_of,
)
from booking_api.outbox.models import MessageChannel, MessageStatus, OutboxMessage
from booking_api.outbox.providers import service_details
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.exams import exam_catalogue
from domain.lifecycle import AppointmentState
from notifications.calendar_invite import CalendarMethod, appointment_calendar
from notifications.email_content import calendar_appointment
from notifications.events import MessageEvent
from notifications.notice import AppointmentNotice
from notifications.phone_numbers import display_phone_number

TELLING = (MessageEvent.BOOKED.value, MessageEvent.CHANGED.value,
           MessageEvent.MOVED_BY_SERVICE.value)


@dataclass(frozen=True)
class AppointmentMessages:
    confirmation_by: tuple[MessageChannel, ...]
    """How the booking (or change) is being confirmed: sms, email, letter."""
    reminders_on: tuple[datetime, ...]
    """When reminders are due (UTC), soonest first."""


def appointment_messages(db: Database, patient_id: int, appointment_id: int
                         ) -> AppointmentMessages:
    """The messages queued for one of the patient's appointments (nothing if not theirs)."""
    with db.reading() as session:
        rows = session.execute(select(OutboxMessage.event, OutboxMessage.channel,
                                      OutboxMessage.due_at).where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.patient_id == patient_id,
            col(OutboxMessage.state).in_([MessageStatus.PENDING, MessageStatus.SENDING,
                                          MessageStatus.SENT]))).all()
    order = list(MessageChannel)
    channels = sorted({MessageChannel(r.channel) for r in rows if r.event in TELLING},
                      key=order.index)
    reminders = sorted({r.due_at for r in rows if MessageEvent(r.event).is_reminder})
    return AppointmentMessages(tuple(channels), tuple(reminders))


@dataclass(frozen=True)
class MessageReach:
    """Where the patient's messages go, so the pages promise only what will happen."""

    mobile: str | None
    """The mobile number texts go to (UK display form); None: we do not text them."""
    email: str | None
    """The address emails go to; None: we do not email them."""
    offers_by_text: bool
    """Whether an earlier time that comes up is offered to them by text."""


def message_reach(db: Database, settings: Settings, patient_id: int) -> MessageReach:
    with db.reading() as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            return MessageReach(None, None, False)
        texts = patient_reached_by(patient, MessageChannel.SMS) and patient.phone is not None
        emails = patient_reached_by(patient, MessageChannel.EMAIL) and patient.email is not None
        mobile = display_phone_number(patient.phone) if texts and patient.phone else None
        return MessageReach(mobile, patient.email if emails else None,
                            texts and settings.backfill_enabled)


def booking_calendar(db: Database, settings: Settings, patient_id: int, request_id: int,
                     stamp: datetime) -> bytes | None:
    """The .ics file of the patient's booked appointment for the request (None: none)."""
    with db.reading() as session:
        request = own_request(session, request_id, patient_id)
        appointment = session.scalar(select(Appointment).where(
            Appointment.request_id == request_id, Appointment.patient_id == patient_id,
            Appointment.state == AppointmentState.BOOKED))
        if appointment is None or appointment.start_at is None or appointment.end_at is None:
            return None
        notice = _calendar_notice(session, request, appointment,
                                  booking_sequence(session, appointment))
    service = service_details(settings)
    return appointment_calendar(calendar_appointment(notice, service), CalendarMethod.PUBLISH,
                                stamp)


def cancelled_booking_calendar(db: Database, settings: Settings, patient_id: int,
                               request_id: int, stamp: datetime) -> bytes | None:
    """The .ics file that takes the patient's cancelled booking out of their calendar:
    METHOD:CANCEL, the booking's UID, SEQUENCE one more than the last event it replaces
    (as the emailed cancellation). None while the request has a booking, or none was
    cancelled."""
    with db.reading() as session:
        request = own_request(session, request_id, patient_id)
        mine = session.scalars(select(Appointment).where(
            Appointment.request_id == request_id, Appointment.patient_id == patient_id,
            col(Appointment.booked_at).is_not(None)).order_by(col(Appointment.id).desc())
        ).all()
        last = mine[0] if mine else None
        if last is None or last.state is not AppointmentState.CANCELLED \
                or last.start_at is None or last.end_at is None:
            return None
        patient = session.get(Patient, patient_id)
        notice = _calendar_notice(session, request, last, booking_sequence(session, last) + 1)
        attendee = patient.email if patient else None
    service = service_details(settings)
    return appointment_calendar(calendar_appointment(notice, service, attendee),
                                CalendarMethod.CANCEL, stamp, sent=False)


def _calendar_notice(session: Session, request: Request, appointment: Appointment,
                     sequence: int) -> AppointmentNotice:
    assert appointment.start_at is not None and appointment.end_at is not None
    patient = session.get(Patient, appointment.patient_id)
    exam = exam_catalogue()[request.exam_code]
    return AppointmentNotice(
        request_id=request.id or 0, reference=request.booking_reference, exam=exam,
        venue=venue_of(site_of_appointment(session, appointment)),
        start=appointment.start_at, end=exam_ends(appointment.start_at, exam),
        sequence=sequence,
        patient_name=f"{patient.given_name} {patient.family_name}" if patient else "")


def texts_waiting_for_morning(db: Database, now: datetime) -> list[datetime]:
    """When the texts held back by the quiet hours will go (the demo page says so)."""
    with db.reading() as session:
        return list(session.scalars(select(OutboxMessage.run_at).where(
            OutboxMessage.channel == MessageChannel.SMS,
            OutboxMessage.state == MessageStatus.PENDING, OutboxMessage.attempts == 0,
            OutboxMessage.due_at <= now, OutboxMessage.run_at > now)
            .order_by(OutboxMessage.run_at)))
