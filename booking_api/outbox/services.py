"""Staff's view of the outbox: dead letters (listed, and sent again on request), the letter
list (messages for patients who take neither texts nor email, for staff to post), and one
patient's messages. Each change is audited; a refused change names the message and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.audit.reads import Reader, record_read
from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import ChangeRefused, NotFound
from booking_api.outbox.models import (
    DeliveryReport,
    MessageChannel,
    MessageStatus,
    OutboxMessage,
)

LIST_LIMIT = 500


@dataclass(frozen=True)
class MessageSummary:
    id: int
    appointment_id: int
    patient_id: int
    event: str
    event_key: str
    channel: MessageChannel
    state: MessageStatus
    attempts: int
    due_at: datetime
    run_at: datetime
    sent_at: datetime | None
    provider_id: str | None
    delivery_status: str | None
    last_error: str | None


def dead_letters(session: Session, limit: int = LIST_LIMIT) -> list[MessageSummary]:
    """Messages that failed for good, the oldest first."""
    return _summaries(session, OutboxMessage.state == MessageStatus.DEAD, limit)


def letters_to_post(session: Session, limit: int = LIST_LIMIT) -> list[MessageSummary]:
    """Messages for patients reached only by post, not yet posted, the oldest first."""
    return _summaries(session, (OutboxMessage.channel == MessageChannel.LETTER)
                      & (OutboxMessage.state == MessageStatus.PENDING), limit)


def messages_of_patient(session: Session, patient_id: int, limit: int = LIST_LIMIT,
                        reader: Reader | None = None) -> list[MessageSummary]:
    """A patient's messages; a staff `reader` is logged as having read them."""
    messages = _summaries(session, OutboxMessage.patient_id == patient_id, limit)
    record_read(session, reader, patient_id, "messages")
    return messages


def resend(session: Session, actor: Actor, message_id: int, now: datetime) -> MessageSummary:
    """Queue a dead letter again, due now, its attempts counted afresh. It is checked again
    when sent: nothing goes for an appointment cancelled or moved meanwhile."""
    message = _locked(session, message_id)
    if message.state is not MessageStatus.DEAD:
        raise ChangeRefused(f"message {message_id} is {message.state.value}; only a dead "
                            "letter can be sent again", "message_id")
    before = {"state": message.state.value, "attempts": message.attempts,
              "last_error": message.last_error}
    message.state, message.attempts, message.run_at = MessageStatus.PENDING, 0, now
    message.lease_until, message.updated_at = None, now
    session.add(message)
    record_audit(session, actor, "message.resent", "outbox_message", message_id,
                 before=before, after={"state": message.state.value})
    session.flush()
    return summary_of(message, None)


def mark_posted(session: Session, actor: Actor, message_id: int,
                now: datetime) -> MessageSummary:
    """Record that the letter for a message has been posted."""
    message = _locked(session, message_id)
    if message.channel is not MessageChannel.LETTER or message.state is not MessageStatus.PENDING:
        raise ChangeRefused(f"message {message_id} is a {message.channel.value} message in "
                            f"state {message.state.value}, not a letter waiting to be posted",
                            "message_id")
    message.state, message.sent_at, message.updated_at = MessageStatus.SENT, now, now
    session.add(message)
    record_audit(session, actor, "message.posted", "outbox_message", message_id,
                 before={"state": MessageStatus.PENDING.value},
                 after={"state": MessageStatus.SENT.value})
    session.flush()
    return summary_of(message, None)


def summary_of(message: OutboxMessage, delivery_status: str | None) -> MessageSummary:
    assert message.id is not None
    return MessageSummary(
        id=message.id, appointment_id=message.appointment_id, patient_id=message.patient_id,
        event=message.event, event_key=message.event_key, channel=message.channel,
        state=message.state, attempts=message.attempts, due_at=message.due_at,
        run_at=message.run_at, sent_at=message.sent_at, provider_id=message.provider_id,
        delivery_status=delivery_status, last_error=message.last_error)


def _summaries(session: Session, condition: object, limit: int) -> list[MessageSummary]:
    rows = session.execute(
        select(OutboxMessage, DeliveryReport.status)
        .join(DeliveryReport, DeliveryReport.provider_id == OutboxMessage.provider_id,
              isouter=True)
        .where(condition).order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        .limit(limit)).all()
    return [summary_of(message, status) for message, status in rows]


def _locked(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id, with_for_update=True,
                          populate_existing=True)
    if message is None:
        raise NotFound("message", message_id, "message_id")
    return message
