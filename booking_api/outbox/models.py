"""Messages to patients, one row per (appointment, event, channel): the dedupe key makes a
second row for the same message impossible, however often the change is retried. A row is
claimed with a lease like any queued work (`jobs.leases`); `provider_id` (Twilio's message
SID, or the email's Message-ID) is recorded the moment the provider accepts it. Delivery
reports from Twilio's status callbacks are kept by SID (`delivery_report`), so one that
arrives before the SID is recorded is not lost."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum, utc_now


class MessageChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    """No electronic channel: staff post a letter (the letter list)."""


class MessageStatus(StrEnum):
    PENDING = "pending"
    """Due at `run_at` (letters: waiting for staff to post them)."""
    SENDING = "sending"
    """Leased to a worker until `lease_until`; claimable again after it."""
    SENT = "sent"
    """Accepted by the provider (or posted, for a letter): `provider_id` says which."""
    SKIPPED = "skipped"
    """No longer true when its time came (appointment cancelled or moved, already past),
    or the patient opted out since: `last_error` says why."""
    DEAD = "dead"
    """Failed `max_attempts` times or refused for good: for staff to look at and resend."""


OUTCOME_UNKNOWN = "outcome unknown: "
"""Prefix of `last_error` for an attempt the provider may have taken (no answer came)."""

CLAIMABLE_SQL = (f"state IN ('{MessageStatus.PENDING.value}', "
                 f"'{MessageStatus.SENDING.value}')")


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_claimable_run_at", "run_at",
              sqlite_where=text(CLAIMABLE_SQL), postgresql_where=text(CLAIMABLE_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=120, unique=True,
                            description="appointment:event key:channel")
    appointment_id: int | None = Field(
        default=None, foreign_key="appointment.id", index=True,
        description="None for a message about the patient's access (sign-in), not a booking")
    previous_appointment_id: int | None = Field(default=None,
                                                description="for a change: the one replaced")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    event: str = Field(max_length=32, description="notifications.MessageEvent")
    event_key: str = Field(max_length=40, description="event, or e.g. reminder-7d")
    channel: MessageChannel = Field(sa_type=code_enum(MessageChannel))
    about_start: datetime = Field(description="the appointment's start when queued")
    due_at: datetime = Field(description="when it should go (quiet hours aside)")
    state: MessageStatus = Field(default=MessageStatus.PENDING, sa_type=code_enum(MessageStatus),
                                 index=True)
    run_at: datetime = Field(description="not before this (quiet hours, backoff)")
    attempts: int = 0
    lease_until: datetime | None = None
    leased_by: str | None = Field(default=None, max_length=120)
    checked_at: datetime | None = Field(
        default=None, description="when the last attempt checked the message still applied")
    provider_id: str | None = Field(default=None, max_length=250,
                                    description="Twilio message SID or email Message-ID")
    sent_at: datetime | None = None
    sent_to: str | None = Field(default=None, max_length=254)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class DeliveryReport(SQLModel, table=True):
    """The furthest delivery status Twilio has reported for a message SID."""

    __tablename__ = "delivery_report"

    provider_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=32)
    error_code: int | None = None
    updated_at: datetime = Field(default_factory=utc_now)
