"""The request table (one examination asked for one patient) and its event log.

`booking_reference` is what the patient signs in with, together with their date of birth.
Request events are only ever inserted: the log is the evidence of every state change.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum, utc_now
from domain.lifecycle import RequestState
from domain.vocabulary import Priority


class RequestBase(SQLModel):
    exam_code: str = Field(foreign_key="exam_type.code", index=True, max_length=40)
    priority: Priority = Field(sa_type=code_enum(Priority))
    received_at: datetime
    due_date: date | None = Field(default=None, description="for planned (surveillance) tests")
    earliest_date: date | None = Field(default=None, description="clinical window opens")
    latest_date: date | None = Field(default=None, description="clinical window closes")
    referrer: str = Field(max_length=200)
    clinical_question: str | None = Field(default=None, max_length=2000)


class Request(RequestBase, table=True):
    __tablename__ = "request"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    state: RequestState = Field(sa_type=code_enum(RequestState), index=True)
    booking_reference: str = Field(unique=True, max_length=12)
    vetted_by: str | None = Field(default=None, max_length=100)
    vetted_at: datetime | None = None
    protocol: str | None = Field(default=None, max_length=200)
    vetting_note: str | None = Field(default=None, max_length=2000)
    updated_at: datetime = Field(default_factory=utc_now)




class RequestEvent(SQLModel, table=True):
    __tablename__ = "request_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    at: datetime = Field(default_factory=utc_now)
    actor: str = Field(max_length=100)
    from_state: RequestState | None = Field(default=None, sa_type=code_enum(RequestState))
    to_state: RequestState = Field(sa_type=code_enum(RequestState))
    reason: str | None = Field(default=None, max_length=2000)
