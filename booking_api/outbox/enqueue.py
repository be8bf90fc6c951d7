"""Writing messages in the transaction of the change they tell of. As a session commits, the
appointment changes it noted (`appointments.changes`) become outbox rows: the confirmation,
change or cancellation due now, and the reminders the schedule gives for the exam's family
(`notifications.reminders`). All of a transaction's rows are one executemany of one
INSERT ... SELECT over the patient's row, which picks the channels in the database: text
when the patient wants texts, has a mobile and has not replied STOP; email when they want
email and have an address; a letter (for staff to post) when neither, except for
reminders. A text that falls due in the quiet hours waits until 08:00 UK time. The dedupe key
(appointment, event, channel) makes a second copy of a row impossible.

With a saved DNA model configured, each booking also queues a job that scores it and adds
the high-risk reminder (`dna_risk`): the model runs off the booking's hot path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    event,
    false,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from booking_api.access.changes import SignInThrottled
from booking_api.appointments.changes import AppointmentChange, AppointmentChanged
from booking_api.core.changes import take_changes, wire_changes
from booking_api.core.columns import utc_now
from booking_api.core.db import SessionHook
from booking_api.jobs.queue import enqueue
from booking_api.outbox.models import MessageChannel, MessageStatus, OutboxMessage
from booking_api.outbox.policy import MessagePolicy
from booking_api.patients.models import ContactPreference, Patient
from domain.exams import exam_catalogue
from notifications.events import MessageEvent
from notifications.quiet_hours import earliest_sms_send_time
from notifications.reminders import reminder_schedule

DNA_RISK_JOB = "dna_risk"
_RUNG = "cdip_outbox_written"


def attach_outbox(policy: MessagePolicy) -> SessionHook:
    """A session hook (`core.db.with_session_hooks`) that writes the messages of noted
    changes as sessions commit. Attach after the audit hooks, before idempotency's."""

    def attach(factory: sessionmaker[Session]) -> None:
        wire_changes(factory)
        event.listen(factory, "before_commit", lambda session: _write(session, policy))
        event.listen(factory, "after_commit", _ring_after_commit(policy))

    return attach


def access_notice_rows(notice: SignInThrottled, policy: MessagePolicy
                       ) -> Iterator[dict[str, Any]]:
    """A patient's notice that sign-in with their reference is being slowed down: a text
    and an email (whichever they take; never a letter), due at once (texts after the quiet
    hours), once per time it starts."""
    event = MessageEvent.SIGN_IN_THROTTLED
    key = f"{event.value}-{int(notice.at.timestamp())}"
    for channel in (MessageChannel.SMS, MessageChannel.EMAIL):
        run_at = (earliest_sms_send_time(notice.at, policy.quiet_hours)
                  if channel is MessageChannel.SMS else notice.at)
        yield {"m_key": f"p{notice.patient_id}:{key}:{channel.value}", "m_appointment": None,
               "m_previous": None, "m_patient": notice.patient_id, "m_event": event.value,
               "m_event_key": key, "m_channel": channel.value, "m_about": notice.at,
               "m_due": notice.at, "m_state": MessageStatus.PENDING.value, "m_run": run_at,
               "m_zero": 0, "m_stamp": utc_now()}


def queue_contact_code(session: Session, patient_id: int, verification_id: int,
                       channel: MessageChannel, at: datetime) -> None:
    """Add the contact code's message to the caller's transaction (the workers' doorbell
    rings when it commits)."""
    session.add(contact_code_message(patient_id, verification_id, channel, at))
    session.info[_RUNG] = True


def contact_code_message(patient_id: int, verification_id: int, channel: MessageChannel,
                         at: datetime) -> OutboxMessage:
    """The one message carrying a contact code, to the address being checked (not the one on
    record, so it bypasses the preference filter of `write_messages`), due at once, even in
    quiet hours: the patient is waiting for it on the page. Its key names the verification,
    which is where composing reads the address and code."""
    event = MessageEvent.CONTACT_CODE
    key = f"{event.value}-{verification_id}"
    return OutboxMessage(dedupe_key=f"p{patient_id}:{key}:{channel.value}", appointment_id=None,
                         patient_id=patient_id, event=event.value, event_key=key,
                         channel=channel, about_start=at, due_at=at, run_at=at)


def message_rows(change: AppointmentChanged, policy: MessagePolicy,
                 dna_probability: float | None = None) -> Iterator[dict[str, Any]]:
    """The rows one change asks for, one per channel (the INSERT keeps those that apply)."""
    for event_, key, due in _messages(change, policy, dna_probability):
        for channel in MessageChannel:
            if channel is MessageChannel.LETTER and event_.is_reminder:
                continue
            run_at = (earliest_sms_send_time(due, policy.quiet_hours)
                      if channel is MessageChannel.SMS else due)
            yield {"m_key": f"{change.appointment_id}:{key}:{channel.value}",
                   "m_appointment": change.appointment_id, "m_previous": change.previous_id,
                   "m_patient": change.patient_id, "m_event": event_.value, "m_event_key": key,
                   "m_channel": channel.value, "m_about": change.start_at, "m_due": due,
                   "m_state": MessageStatus.PENDING.value, "m_run": run_at, "m_zero": 0,
                   "m_stamp": utc_now()}


def write_messages(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (from `message_rows`) in one executemany; existing keys are left be.
    On PostgreSQL the statement, compiled once, goes to the driver as it is: psycopg adapts
    every value itself, and SQLAlchemy's per-row parameter processing cost more than the
    statement (this runs in every booking's transaction)."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_pg_insert(len(rows)), tuple(
            row[name] for row in rows for name in _PG_ROW))
    else:
        connection.execute(_INSERTS[connection.dialect.name], rows)


def _messages(change: AppointmentChanged, policy: MessagePolicy,
              dna_probability: float | None) -> Iterator[tuple[MessageEvent, str, datetime]]:
    now_event = {
        AppointmentChange.BOOKED: MessageEvent.BOOKED,
        AppointmentChange.MOVED: (MessageEvent.MOVED_BY_SERVICE if change.by_service
                                  else MessageEvent.CHANGED),
        AppointmentChange.CANCELLED: (MessageEvent.CANCELLED_BY_SERVICE if change.by_service
                                      else MessageEvent.CANCELLED),
        AppointmentChange.HOLD_EXPIRED: MessageEvent.HOLD_EXPIRED}[change.change]
    yield now_event, now_event.value, change.at
    if change.change in (AppointmentChange.BOOKED, AppointmentChange.MOVED):
        exam = exam_catalogue().get(change.exam_code)
        if exam is None:
            return
        for reminder in reminder_schedule(change.start_at, exam.family, change.at,
                                          policy.reminders, dna_probability):
            yield reminder.event, reminder.key, reminder.due_at


def _write(session: Session, policy: MessagePolicy) -> None:
    changes = take_changes(session, AppointmentChanged)
    notices = take_changes(session, SignInThrottled)
    if not changes and not notices:
        return
    write_messages(session, [row for change in changes for row in message_rows(change, policy)]
                   + [row for notice in notices for row in access_notice_rows(notice, policy)])
    if policy.score_dna_risk:
        for change in changes:
            if change.change in (AppointmentChange.BOOKED, AppointmentChange.MOVED):
                enqueue(session, DNA_RISK_JOB, {"appointment_id": change.appointment_id},
                        run_at=change.at, dedupe_key=f"{DNA_RISK_JOB}:{change.appointment_id}")
    session.info[_RUNG] = True


def _ring_after_commit(policy: MessagePolicy):
    def ring(session: Session) -> None:
        if session.info.pop(_RUNG, False):
            policy.doorbell.ring()
    return ring


_T = OutboxMessage.__table__  # type: ignore[attr-defined]
_COLUMNS = ("dedupe_key", "appointment_id", "previous_appointment_id", "patient_id", "event",
            "event_key", "channel", "about_start", "due_at", "state", "run_at", "attempts",
            "created_at", "updated_at")
_PARAMS = ("m_key", "m_appointment", "m_previous", "m_patient", "m_event", "m_event_key",
           "m_channel", "m_about", "m_due", "m_state", "m_run", "m_zero", "m_stamp",
           "m_stamp")
"""Parameter names that name no column (SQLAlchemy would add such a key to the VALUES)."""
_CODE = String(32)
"""Codes go in as text: PostgreSQL must be told a parameter's type in a SELECT list."""


def _channel_wanted() -> Any:
    """Codes as SQL literals (`_code`), not parameters: the statement's only parameters are
    its rows' (and executemany takes no expanding IN)."""
    channel = bindparam("m_channel", type_=_CODE)
    preference = Patient.__table__.c.contact_preference
    texts = and_(or_(preference == _code(ContactPreference.SMS),
                     preference == _code(ContactPreference.BOTH)),
                 Patient.phone.is_not(None), Patient.sms_opt_out == false())
    emails = and_(or_(preference == _code(ContactPreference.EMAIL),
                      preference == _code(ContactPreference.BOTH)), Patient.email.is_not(None))
    return or_(and_(channel == _code(MessageChannel.SMS), texts),
               and_(channel == _code(MessageChannel.EMAIL), emails),
               and_(channel == _code(MessageChannel.LETTER), not_(texts), not_(emails)))


def _code(value: StrEnum) -> Any:
    return literal_column(f"'{value.value}'", _CODE)


def _build_insert(dialect: Any) -> Any:
    values = select(*[bindparam(param, type_=_CODE if column in ("channel", "state")
                                else _T.c[column].type)
                      for column, param in zip(_COLUMNS, _PARAMS, strict=True)]).where(
        Patient.id == bindparam("m_patient", type_=_T.c.patient_id.type), _channel_wanted())
    return dialect.insert(OutboxMessage).from_select(list(_COLUMNS), values) \
        .on_conflict_do_nothing(index_elements=["dedupe_key"])


_INSERTS = {"postgresql": _build_insert(postgresql), "sqlite": _build_insert(sqlite)}

_PG_ROW = ("m_key", "m_appointment", "m_previous", "m_patient", "m_event", "m_event_key",
           "m_channel", "m_about", "m_due", "m_run", "m_stamp")
_PG_VALUES = ("(%s::varchar, %s::integer, %s::integer, %s::integer, %s::varchar, %s::varchar, "
              "%s::varchar, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s::timestamptz)")
_TEXTS = ("patient.contact_preference IN ('sms', 'both') AND patient.phone IS NOT NULL "
          "AND NOT patient.sms_opt_out")
_EMAILS = "patient.contact_preference IN ('email', 'both') AND patient.email IS NOT NULL"


@lru_cache(maxsize=32)
def _pg_insert(count: int) -> str:
    """PostgreSQL: every row of the transaction in one statement (a VALUES list joined to
    the patient), sent to psycopg as it is: SQLAlchemy's per-row parameter processing and an
    executemany's per-row round of the protocol cost more than the statement itself. The
    channel rule is `_channel_wanted`'s, written in SQL (the tests run both databases)."""
    return (
        f"INSERT INTO outbox_message ({', '.join(_COLUMNS)}) "
        "SELECT v.dedupe_key, v.appointment_id, v.previous_id, v.patient_id, v.event, "
        f"v.event_key, v.channel, v.about, v.due, '{MessageStatus.PENDING.value}', v.run_at, "
        "0, v.stamp, v.stamp "
        f"FROM (VALUES {', '.join([_PG_VALUES] * count)}) AS v(dedupe_key, appointment_id, "
        "previous_id, patient_id, event, event_key, channel, about, due, run_at, stamp) "
        "JOIN patient ON patient.id = v.patient_id "
        f"WHERE (v.channel = 'sms' AND {_TEXTS}) OR (v.channel = 'email' AND {_EMAILS}) "
        f"OR (v.channel = 'letter' AND NOT ({_TEXTS}) AND NOT ({_EMAILS})) "
        "ON CONFLICT (dedupe_key) DO NOTHING")
