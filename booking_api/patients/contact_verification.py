"""A mobile number or email address a patient has given, waiting to be confirmed with the
one-time code sent to it. Only a confirmed address replaces the one on the patient's record,
so no other message ever goes to an address nobody has confirmed. The code is kept until it
expires (ten minutes) because the outbox worker composes the message from this row."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from booking_api.core.columns import utc_now


class ContactVerification(SQLModel, table=True):
    __tablename__ = "contact_verification"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    channel: str = Field(max_length=10, description="'sms' or 'email'")
    address: str = Field(max_length=254, description="E.164 number or email address")
    code: str = Field(max_length=12)
    expires_at: datetime
    attempts: int = 0
    confirmed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
