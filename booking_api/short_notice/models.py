"""The short-notice list table: one row per request whose patient asked to be offered an
earlier time at short notice, with when they can come, how far they travel and how much
notice they need. Leaving the list keeps the row (inactive) as the record of the choice."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from booking_api.core.columns import utc_now


class ShortNoticeEntry(SQLModel, table=True):
    __tablename__ = "short_notice_entry"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", unique=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    days: str = Field(max_length=40, description="weekday codes joined by ';' (mon..sun)")
    periods: str = Field(max_length=40,
                         description="morning, afternoon, evening joined by ';'")
    max_km: float = Field(description="furthest straight-line distance from home")
    notice_hours: int = Field(description="least notice the patient needs")
    active: bool = Field(default=True, index=True)
    joined_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    left_at: datetime | None = None
