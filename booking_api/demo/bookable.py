"""Which demo booking references can be booked right now: the demo prints these after the
diaries are built, so a first-time visitor never starts with a reference that has no times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from booking_api.core.db import make_session_factory, read_only
from booking_api.network.models import ExamType
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, search_slots
from domain.lifecycle import RequestState


@dataclass(frozen=True)
class BookableReference:
    booking_reference: str
    date_of_birth: str
    exam_name: str
    earliest_site: str
    earliest_start: datetime


def bookable_references(engine: Engine, now: datetime, limit: int = 5) -> list[BookableReference]:
    """Up to `limit` appointable requests with at least one eligible free slot, soonest first."""
    found: list[BookableReference] = []
    with make_session_factory(read_only(engine))() as session:
        index = SlotIndex()
        index.refresh(session, force=True)
        for request_id, reference, born, exam in _appointable(session):
            result = search_slots(session, index, request_id, SearchQuery(limit=1), now=now)
            if result.slots:
                offer = result.slots[0]
                found.append(BookableReference(reference, f"{born:%d %B %Y}", exam,
                                               offer.site_name, offer.start_at))
            if len(found) == limit:
                break
    return found


def _appointable(session: Session) -> list[tuple]:
    return list(session.execute(
        select(Request.id, Request.booking_reference, Patient.date_of_birth, ExamType.name)
        .join(Patient, Patient.id == Request.patient_id)
        .join(ExamType, ExamType.code == Request.exam_code)
        .where(Request.state == RequestState.APPOINTABLE)
        .order_by(Request.id)
    ))
