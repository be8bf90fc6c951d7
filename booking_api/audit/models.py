"""The audit_event table: append-only, one row per change a person or system made.
`correlation_id` ties the row to the HTTP request (X-Request-ID) that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from booking_api.core.channel import Channel
from booking_api.core.columns import JSONDocument, code_enum, utc_now


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity_entity_id", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, index=True)
    actor: str = Field(max_length=100)
    channel: Channel = Field(sa_type=code_enum(Channel))
    action: str = Field(max_length=60)
    entity: str = Field(max_length=60)
    entity_id: str = Field(max_length=60)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    reason: str | None = Field(default=None, max_length=2000)
    correlation_id: str | None = Field(default=None, max_length=64, index=True)


class PatientRecordReadBase(SQLModel):
    at: datetime = Field(default_factory=utc_now)
    patient_id: int = Field(description="whose record was read")
    actor: str = Field(max_length=100, description="who read it: `clerk:jsmith`, `fhir:epr`")
    role: str | None = Field(default=None, max_length=32)
    channel: Channel = Field(sa_type=code_enum(Channel))
    what: str = Field(max_length=60, description="which part: appointment, appointments, "
                                                 "request, patient, messages")
    item_id: str | None = Field(default=None, max_length=60,
                                description="the appointment or request read, if one")
    route: str | None = Field(default=None, max_length=200,
                              description="the route template it was read through")
    correlation_id: str | None = Field(default=None, max_length=64)


class PatientRecordRead(PatientRecordReadBase, table=True):
    """Who looked at whom: one row per staff read of part of a patient's record (the access
    log information governance asks for). Append-only; no foreign key, so the log outlives
    the record it describes. Holds ids only, never what was shown."""

    __tablename__ = "patient_record_read"
    __table_args__ = (Index("ix_patient_record_read_patient_id_id", "patient_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)


class PatientRecordReadPublic(PatientRecordReadBase):
    id: int
