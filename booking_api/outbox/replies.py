"""What Twilio tells us: delivery reports (the furthest status per message SID, kept even
when it arrives before the worker recorded the SID) and patients' replies. A reply is read
with `notifications.replies`: STOP (and Twilio's other opt-out words) is recorded as the
patient's SMS opt-out and START undoes it, both audited; CONFIRM is noted against the
patient's next appointment; anything else gets a helpful answer (sent back in the webhook's
answer, as TwiML)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from booking_api.appointments.models import Appointment
from booking_api.audit.services import Actor, record_audit
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.network.models import Room, Site
from booking_api.outbox.models import DeliveryReport
from booking_api.patients.models import Patient
from domain.lifecycle import AppointmentState
from notifications.notice import ServiceDetails
from notifications.replies import ReplyIntent, ReplyOutcome, UpcomingAppointment, reply_outcome
from notifications.webhooks import DeliveryStatus, InboundSms

STATUS_RANK = {DeliveryStatus.ACCEPTED: 0, DeliveryStatus.SCHEDULED: 0,
               DeliveryStatus.QUEUED: 0, DeliveryStatus.SENDING: 1, DeliveryStatus.SENT: 2,
               DeliveryStatus.DELIVERED: 3, DeliveryStatus.UNDELIVERED: 3,
               DeliveryStatus.FAILED: 3, DeliveryStatus.CANCELED: 3, DeliveryStatus.READ: 4}


@dataclass(frozen=True)
class ReportOutcome:
    status: DeliveryStatus
    changed: bool


def record_delivery_report(db: Database, sid: str, status: DeliveryStatus,
                           error_code: int | None, now: datetime) -> ReportOutcome:
    """Keep `status` for `sid` unless a further one is known (callbacks may arrive out of
    order). Idempotent: the same report twice changes nothing the second time."""
    for _ in range(2):  # a concurrent first report for the same SID: read it and go on
        try:
            with db.transaction() as session:
                return _keep_furthest(session, sid, status, error_code, now)
        except IntegrityError:
            continue
    raise RuntimeError(f"could not record the delivery report for {sid}")


def _keep_furthest(session: Session, sid: str, status: DeliveryStatus,
                   error_code: int | None, now: datetime) -> ReportOutcome:
    known = session.get(DeliveryReport, sid, with_for_update=True)
    if known is None:
        session.add(DeliveryReport(provider_id=sid, status=status, error_code=error_code,
                                   updated_at=now))
        session.flush()
        return ReportOutcome(status, True)
    if STATUS_RANK[status] < STATUS_RANK.get(DeliveryStatus(known.status), 0) or (
            known.status == status.value and known.error_code == error_code):
        return ReportOutcome(DeliveryStatus(known.status), False)
    known.status, known.error_code, known.updated_at = status, error_code, now
    session.add(known)
    return ReportOutcome(status, True)


def answer_reply(db: Database, message: InboundSms, service: ServiceDetails,
                 now: datetime) -> ReplyOutcome:
    """Act on a patient's reply and say what to answer (None: Twilio answers itself)."""
    with db.transaction() as session:
        patients = list(session.scalars(select(Patient).where(
            Patient.phone == message.from_number).order_by(Patient.id)))
        upcoming = _next_appointment(session, [p.id for p in patients], now)
        outcome = reply_outcome(message.body, service, upcoming[1] if upcoming else None,
                                message.opt_out_type)
        actor = Actor(f"sms:{message.from_number[-4:]}", Channel.SMS)
        if outcome.intent in (ReplyIntent.OPT_OUT, ReplyIntent.OPT_IN):
            for patient in patients:
                _set_opt_out(session, actor, patient, outcome.intent is ReplyIntent.OPT_OUT,
                             message.message_sid)
        elif outcome.intent in (ReplyIntent.CONFIRM, ReplyIntent.CHANGE) and upcoming:
            action = {ReplyIntent.CONFIRM: "appointment.confirmed_by_reply",
                      ReplyIntent.CHANGE: "appointment.change_asked_by_reply"}[outcome.intent]
            record_audit(session, actor, action, "appointment", upcoming[0],
                         after={"message_sid": message.message_sid})
        return outcome


def _set_opt_out(session: Session, actor: Actor, patient: Patient, opted_out: bool,
                 sid: str) -> None:
    if patient.sms_opt_out is opted_out:
        return
    patient.sms_opt_out = opted_out
    session.add(patient)
    record_audit(session, actor, "patient.sms_opt_out" if opted_out else "patient.sms_opt_in",
                 "patient", patient.id or 0, before={"sms_opt_out": not opted_out},
                 after={"sms_opt_out": opted_out}, reason=f"SMS reply {sid}")


def _next_appointment(session: Session, patient_ids: list[int | None], now: datetime
                      ) -> tuple[int, UpcomingAppointment] | None:
    if not patient_ids:
        return None
    row = session.execute(
        select(Appointment.id, Appointment.start_at, Site.name)
        .join(Room, Room.room_id == Appointment.room_id)
        .join(Site, Site.site_id == Room.site_id)
        .where(col(Appointment.patient_id).in_(patient_ids),
               Appointment.state == AppointmentState.BOOKED, col(Appointment.start_at) > now)
        .order_by(col(Appointment.start_at)).limit(1)).first()
    if row is None:
        return None
    return row.id, UpcomingAppointment(start=row.start_at, site=row.name)
