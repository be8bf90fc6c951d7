"""What a claimed message says, decided when it is sent: the facts read again from the
database (one read session), whether the message still tells the truth, and the notice the
notifications engine writes it from. Nothing is sent for an appointment cancelled or moved
since the message was queued, for one already started, to a channel the patient no longer
wants, or (for a cancellation) to a patient never told of the booking on that channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import func, select
from sqlmodel import Session, col

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.appointments.taking import HOLD_EXPIRED
from booking_api.network.models import Room, Site
from booking_api.outbox.models import (
    OUTCOME_UNKNOWN,
    MessageChannel,
    MessageStatus,
    OutboxMessage,
)
from booking_api.patients.contact_verification import ContactVerification
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.models import Request
from domain.exams import ExamType, exam_catalogue
from domain.lifecycle import AppointmentState
from domain.site_visits import site_visits
from notifications.contact_code import CODE_MINUTES, contact_code_sms
from notifications.events import MessageEvent
from notifications.notice import AppointmentNotice, ServiceDetails, Venue
from notifications.security_notice import sign_in_throttled_sms
from notifications.sms_content import sms_text

ABOUT_A_BOOKING = frozenset({MessageEvent.BOOKED, MessageEvent.CHANGED,
                             MessageEvent.MOVED_BY_SERVICE, MessageEvent.REMINDER,
                             MessageEvent.HIGH_RISK_REMINDER})
CANCELLATIONS = frozenset({MessageEvent.CANCELLED, MessageEvent.CANCELLED_BY_SERVICE})


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class Composed:
    """A message that still applies: what to send, to whom."""

    event: MessageEvent
    notice: AppointmentNotice | None
    """None for a notice about the patient's access (no appointment)."""
    recipient: Recipient
    code: str | None = None
    """The one-time code of a CONTACT_CODE message."""


@dataclass(frozen=True)
class Stale:
    """A message that no longer applies, and why."""

    reason: str


@dataclass(frozen=True)
class Later:
    """A message that cannot be decided yet: try again `after` (no attempt counted)."""

    reason: str
    after: timedelta = timedelta(seconds=10)


@dataclass(frozen=True)
class MessageFacts:
    """An outbox row with everything composing it reads. Holding them keeps them in the
    session's identity map (it holds its objects weakly), so the `session.get`s of `compose`
    cost no query while this lives."""

    message: OutboxMessage
    appointment: Appointment | None
    """None for a notice about the patient's access."""
    patient: Patient
    request: Request | None
    room: Room | None
    site: Site | None


def message_facts(session: Session, message_id: int) -> MessageFacts:
    """The outbox row `message_id` and its appointment, patient, request, room and site, in
    one round trip."""
    row = session.execute(
        select(OutboxMessage, Appointment, Patient, Request, Room, Site)
        .outerjoin(Appointment, col(Appointment.id) == OutboxMessage.appointment_id)
        .join(Patient, col(Patient.id) == OutboxMessage.patient_id)
        .outerjoin(Request, col(Request.id) == Appointment.request_id)
        .outerjoin(Room, col(Room.room_id) == Appointment.room_id)
        .outerjoin(Site, col(Site.site_id) == Room.site_id)
        .where(OutboxMessage.id == message_id)).first()
    facts = MessageFacts(*row) if row is not None else None
    # every outbox row names a patient, and an appointment with its request unless it is a
    # notice about the patient's access
    if facts is None or (facts.message.appointment_id is not None
                         and (facts.appointment is None or facts.request is None)):
        raise LookupError(f"outbox message {message_id} is gone or incomplete")
    return facts


def compose(session: Session, message: OutboxMessage, now: datetime
            ) -> Composed | Stale | Later:
    """The message `message` (a claimed outbox row) should send now, or why it should not."""
    patient = session.get(Patient, message.patient_id)
    assert patient is not None
    event = MessageEvent(message.event)
    channel = MessageChannel(message.channel)
    if event is MessageEvent.CONTACT_CODE:
        return _contact_code(session, message, patient, now)
    if not _wanted(patient, channel):
        return Stale(f"the patient no longer takes {channel.value} messages")
    if not event.about_an_appointment:
        return Composed(event, None, _recipient(patient))
    appointment = session.get(Appointment, message.appointment_id)
    assert appointment is not None
    if appointment.start_at is None or appointment.start_at <= now:
        return Stale("the appointment has already started")
    problem = _still_true(session, message, appointment, event, channel)
    if problem is not None:
        return problem
    if event is MessageEvent.CHANGED and message.previous_appointment_id and _told(
            session, message.previous_appointment_id, channel, message.id) is Told.NO:
        event = MessageEvent.BOOKED  # never told of the old time: this is the booking
    return Composed(event, _notice(session, appointment, message, event), _recipient(patient))


def texts_it_may_have_sent(session: Session, message: OutboxMessage, service: ServiceDetails
                           ) -> tuple[tuple[str, ...], Recipient | None]:
    """Every text an earlier attempt at `message` may have sent, and to whom, whether or not
    the message still applies (it may have gone before it stopped applying): what to look
    for in Twilio's record before sending it again or giving it up."""
    patient = session.get(Patient, message.patient_id)
    if patient is not None and MessageEvent(message.event) is MessageEvent.CONTACT_CODE:
        verification = _verification_of(session, message)
        if verification is None or verification.channel != MessageChannel.SMS.value:
            return (), None
        return ((contact_code_sms(service, verification.code, CODE_MINUTES),),
                Recipient(_name(patient), verification.address, None))
    if patient is not None and patient.phone and message.appointment_id is None:
        return (sign_in_throttled_sms(service),), _recipient(patient)
    appointment = session.get(Appointment, message.appointment_id)
    if appointment is None or patient is None or not patient.phone \
            or appointment.start_at is None or appointment.end_at is None:
        return (), None
    event = MessageEvent(message.event)
    events = {event, MessageEvent.BOOKED} if event is MessageEvent.CHANGED else {event}
    texts = tuple(sms_text(e, _notice(session, appointment, message, e), service)
                  for e in sorted(events))
    return texts, Recipient(f"{patient.given_name} {patient.family_name}", patient.phone,
                            patient.email)


def _contact_code(session: Session, message: OutboxMessage, patient: Patient,
                  now: datetime) -> Composed | Stale:
    """A code goes to the address it checks, whatever the patient's preference (they asked
    for it on the page), unless it has expired or been used."""
    verification = _verification_of(session, message)
    if verification is None:
        return Stale("the contact check is gone")
    if verification.confirmed_at is not None:
        return Stale("the address was confirmed already")
    if verification.expires_at <= now:
        return Stale("the code has expired")
    sms = verification.channel == MessageChannel.SMS.value
    recipient = Recipient(_name(patient), verification.address if sms else None,
                          None if sms else verification.address)
    return Composed(MessageEvent.CONTACT_CODE, None, recipient, code=verification.code)


def _verification_of(session: Session, message: OutboxMessage) -> ContactVerification | None:
    prefix = f"{MessageEvent.CONTACT_CODE.value}-"
    if not message.event_key.startswith(prefix):
        return None
    verification = session.get(ContactVerification, int(message.event_key[len(prefix):]))
    if verification is None or verification.patient_id != message.patient_id:
        return None
    return verification


def _name(patient: Patient) -> str:
    return f"{patient.given_name} {patient.family_name}"


def _recipient(patient: Patient) -> Recipient:
    return Recipient(f"{patient.given_name} {patient.family_name}", patient.phone,
                     patient.email)


def patient_reached_by(patient: Patient, channel: MessageChannel) -> bool:
    """Whether messages to this patient go by `channel` (the pages say only this)."""
    return _wanted(patient, channel)


def _wanted(patient: Patient, channel: MessageChannel) -> bool:
    preference = patient.contact_preference
    if channel is MessageChannel.SMS:
        return preference in (ContactPreference.SMS, ContactPreference.BOTH) \
            and patient.phone is not None and not patient.sms_opt_out
    if channel is MessageChannel.EMAIL:
        return preference in (ContactPreference.EMAIL, ContactPreference.BOTH) \
            and patient.email is not None
    return True


def _still_true(session: Session, message: OutboxMessage, appointment: Appointment,
                event: MessageEvent, channel: MessageChannel) -> Stale | Later | None:
    state = appointment.state
    if event in ABOUT_A_BOOKING:
        if state is not AppointmentState.BOOKED or appointment.start_at != message.about_start:
            return Stale(f"the appointment is {state.value} now (cancelled or moved since)")
        return None
    if event in CANCELLATIONS:
        if state is not AppointmentState.CANCELLED:
            return Stale(f"the appointment is {state.value}, not cancelled")
        told = _told(session, appointment.id, channel, message.id)
        if told is Told.UNSURE:
            return Later("whether the patient was told of the booking is not known yet")
        if told is Told.NO:
            return Stale("the patient was never told of this booking on this channel")
        return None
    if event is MessageEvent.HOLD_EXPIRED:
        if state is not AppointmentState.CANCELLED or appointment.cancel_reason != HOLD_EXPIRED:
            return Stale("the hold did not lapse")
        if _active_on_request(session, appointment.request_id):
            return Stale("the patient has another appointment for this request now")
    return None


class Told(Enum):
    YES = "yes"
    UNSURE = "unsure"
    """A message about it is being sent, or its last attempt may have gone (no answer)."""
    NO = "no"


def _told(session: Session, appointment_id: int, channel: MessageChannel,
          other_than: int) -> Told:
    """Whether the patient was told anything about the appointment (by a message other
    than this one) on `channel`."""
    rows = session.execute(select(OutboxMessage.state, OutboxMessage.attempts,
                                  OutboxMessage.last_error).where(
        OutboxMessage.appointment_id == appointment_id, OutboxMessage.channel == channel,
        OutboxMessage.id != other_than, col(OutboxMessage.state).in_(
            [MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.PENDING]))).all()
    if any(row.state is MessageStatus.SENT for row in rows):
        return Told.YES
    if any(row.state is MessageStatus.SENDING or (
            row.attempts > 0 and (row.last_error or OUTCOME_UNKNOWN).startswith(OUTCOME_UNKNOWN))
           for row in rows):
        return Told.UNSURE
    return Told.NO


def _active_on_request(session: Session, request_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.request_id == request_id, col(Appointment.state).in_(ACTIVE_STATES))) > 0


def _notice(session: Session, appointment: Appointment, message: OutboxMessage,
            event: MessageEvent) -> AppointmentNotice:
    request = session.get(Request, appointment.request_id)
    site = site_of_appointment(session, appointment)
    assert request is not None and appointment.start_at and appointment.end_at
    previous = (session.get(Appointment, message.previous_appointment_id)
                if message.previous_appointment_id else None)
    sequence = booking_sequence(session, appointment)
    if event in CANCELLATIONS:
        sequence += 1
    patient = session.get(Patient, appointment.patient_id)
    exam = exam_catalogue()[request.exam_code]
    return AppointmentNotice(
        request_id=request.id or 0, reference=request.booking_reference,
        exam=exam, venue=venue_of(site),
        start=appointment.start_at, end=exam_ends(appointment.start_at, exam), sequence=sequence,
        patient_name=f"{patient.given_name} {patient.family_name}" if patient else "",
        previous_start=previous.start_at if previous is not None else None)


def exam_ends(start: datetime, exam: ExamType) -> datetime:
    """When the exam itself ends: what messages and calendar events say (the page's "about
    N minutes"), not the end of the slots it occupies, which round it up."""
    return start + timedelta(minutes=exam.duration_min)


def booking_sequence(session: Session, appointment: Appointment) -> int:
    """The calendar SEQUENCE of a booking: how many earlier bookings of its request there
    were (the portal's .ics counts the same way)."""
    return session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.request_id == appointment.request_id, Appointment.id != appointment.id,
        col(Appointment.booked_at).is_not(None),
        col(Appointment.created_at) <= appointment.created_at)) or 0


def venue_of(site: Site) -> Venue:
    """The site as messages and calendar events name it: its full address and postcode
    (`domain.site_visits`), or its name and postcode district when that is not on file."""
    visit = site_visits().get(site.site_id)
    address = visit.full_address(site.name) if visit else f"{site.name}, {site.postcode_district}"
    return Venue(name=site.name, address=address,
                 parking=site.parking, public_transport=site.public_transport,
                 step_free=site.step_free, lat=site.lat, lon=site.lon)


def site_of_appointment(session: Session, appointment: Appointment) -> Site:
    room = session.get(Room, appointment.room_id)
    assert room is not None
    site = session.get(Site, room.site_id)
    assert site is not None
    return site
