"""The request table (one examination asked for one patient) and its event log.

`booking_reference` is what the patient signs in with, together with their date of birth.
Request events are only ever inserted: the log is the evidence of every state change.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, text
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


OPEN_STATES_SQL = "state IN ('received', 'justified', 'waiting', 'appointable')"
"""Requests staff may still have to act on (vet, book): the worklist's partial indexes."""
WORKLIST_INDEX = "ix_request_worklist"
"""Open requests by priority then age (within a priority the breach date follows the date
received): the clerks' worklist reads it in order, a page at a time."""
WORKLIST_PLANNED_INDEX = "ix_request_worklist_due"
"""Open requests by priority then due date: planned (surveillance) tests breach on it."""


class Request(RequestBase, table=True):
    __tablename__ = "request"
    __table_args__ = (
        Index(WORKLIST_INDEX, "priority", "received_at", "id",
              sqlite_where=text(OPEN_STATES_SQL), postgresql_where=text(OPEN_STATES_SQL)),
        Index(WORKLIST_PLANNED_INDEX, "priority", "due_date", "id",
              sqlite_where=text(OPEN_STATES_SQL), postgresql_where=text(OPEN_STATES_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    state: RequestState = Field(sa_type=code_enum(RequestState), index=True)
    booking_reference: str = Field(unique=True, max_length=12)
    vetted_by: str | None = Field(default=None, max_length=100)
    vetted_at: datetime | None = None
    protocol: str | None = Field(default=None, max_length=200)
    vetting_note: str | None = Field(default=None, max_length=2000)
    site_id: str | None = Field(
        default=None, foreign_key="site.site_id", index=True, max_length=40,
        description="the site (department) the request was sent to, when known; its trust is "
                    "responsible for the request")
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
