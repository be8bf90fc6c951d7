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
