"""Slot routes: search for a request (patients for their own requests, staff for any), read a
slot with its FHIR status, block and unblock (clerks and above), withdraw a slot and sweep
stale holds (administrators). Every POST needs an Idempotency-Key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from booking_api.access.deps import AdminOnly, ClerkOrAbove, SignedIn
from booking_api.api.deps import ReadSessionDep, SessionDep
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.appointments import services
from booking_api.appointments.errors import BookingError, NotFound
from booking_api.appointments.views import MAX_ID, now_of, scope
from booking_api.idempotency.route import IdempotentRoute
from booking_api.slots import blocking
from booking_api.slots.models import Slot, SlotBase
from booking_api.slots.search import MAX_LIMIT, SearchQuery, SortOrder, search_slots
from booking_api.slots.search_index import SlotIndex

router = APIRouter(prefix="/api", tags=["slots"], route_class=IdempotentRoute,
                   responses=ERROR_RESPONSES)
_index_lock = threading.Lock()
SlotId = Annotated[int, Path(ge=1, le=MAX_ID)]
RequestId = SlotId


class SlotPublic(SlotBase):
    id: int
    fhir_status: str = Field(description="FHIR R4 Slot.status")
    version: int


class SlotOfferPublic(BaseModel):
    slot_id: int
    site_id: str
    site_name: str
    room_id: str
    start_at: datetime
    end_at: datetime
    distance_km: float | None
    fhir_status: str


class SiteSummaryPublic(BaseModel):
    site_id: str
    site_name: str
    earliest_start: datetime
    distance_km: float | None
    eligible_slots: int


class SearchResultPublic(BaseModel):
    request_id: int
    sort: SortOrder
    slots_considered: int
    eligible_slots: int
    slots: list[SlotOfferPublic]
    sites: list[SiteSummaryPublic]


class SweepResult(BaseModel):
    expired_holds: int


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def slot_index(request: Request) -> SlotIndex:
    """The app's one slot index, made on first use."""
    index = getattr(request.app.state, "slot_index", None)
    if index is None:
        with _index_lock:
            index = getattr(request.app.state, "slot_index", None)
            if index is None:
                index = request.app.state.slot_index = SlotIndex()
    return index


@router.get("/requests/{request_id}/slots", response_model=SearchResultPublic)
def search(request_id: RequestId, who: SignedIn, session: ReadSessionDep, request: Request,
           sort: SortOrder = SortOrder.SOONEST, from_date: date | None = None,
           to_date: date | None = None,
           max_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
           sites: Annotated[list[str] | None, Query(max_length=100)] = None,
           limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
           ) -> SearchResultPublic | JSONResponse:
    """Free slots this request may take across every site, soonest or nearest first, with
    each site's earliest slot and its distance from the patient's home district."""
    _actor, patient_id = scope(who)
    try:
        query = SearchQuery(sort=sort, from_date=from_date, to_date=to_date, max_km=max_km,
                            sites=frozenset(sites) if sites else None, limit=limit)
        result = search_slots(session, slot_index(request), request_id, query,
                              now=now_of(request), patient_id=patient_id)
    except BookingError as error:
        return booking_error_response(error)
    return SearchResultPublic.model_validate(result, from_attributes=True)


@router.get("/slots/{slot_id}", response_model=SlotPublic)
def read_slot(slot_id: SlotId, _who: SignedIn, session: ReadSessionDep
              ) -> SlotPublic | JSONResponse:
    """One slot, with its FHIR status."""
    slot = session.get(Slot, slot_id)
    if slot is None:
        return booking_error_response(NotFound("slot", slot_id, "slot_id"))
    return _public(slot)


@router.post("/slots/{slot_id}/block", response_model=SlotPublic)
def block(slot_id: SlotId, body: Reason, staff: ClerkOrAbove, session: SessionDep,
          request: Request) -> SlotPublic | JSONResponse:
    """Take a free slot out of use (busy-unavailable)."""
    return _change(session, lambda: blocking.block_slot(
        session, staff.actor, slot_id, body.reason, now=now_of(request)))


@router.post("/slots/{slot_id}/unblock", response_model=SlotPublic)
def unblock(slot_id: SlotId, body: Reason, staff: ClerkOrAbove, session: SessionDep,
            request: Request) -> SlotPublic | JSONResponse:
    """Put a blocked slot back into use."""
    return _change(session, lambda: blocking.unblock_slot(
        session, staff.actor, slot_id, body.reason, now=now_of(request)))


@router.post("/slots/{slot_id}/withdraw", response_model=SlotPublic)
def withdraw(slot_id: SlotId, body: Reason, admin: AdminOnly, session: SessionDep,
             request: Request) -> SlotPublic | JSONResponse:
    """Mark a slot entered-in-error (administrators only)."""
    return _change(session, lambda: blocking.withdraw_slot(
        session, admin.actor, slot_id, body.reason, now=now_of(request)))


@router.post("/holds/sweep", response_model=SweepResult)
def sweep_holds(admin: AdminOnly, session: SessionDep, request: Request) -> SweepResult:
    """Expire every hold whose time has run out (administrators; the booking path also
    expires stale holds on the time it wants)."""
    expired = services.sweep_expired_holds(session, now_of(request), admin.actor)
    session.commit()
    return SweepResult(expired_holds=expired)


def _change(session: Session, operation: Callable[[], Slot]) -> SlotPublic | JSONResponse:
    try:
        slot = operation()
        session.commit()
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    except BaseException:
        session.rollback()  # release SQLite's write lock before anyone else needs it
        raise
    return _public(slot)


def _public(slot: Slot) -> SlotPublic:
    return SlotPublic(**slot.model_dump(), fhir_status=slot.status.value)
