"""The slot search route: free slots a request may take across every site (patients for
their own requests, staff for any), soonest or nearest first, with each site's earliest slot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from booking_api.access.deps import SignedIn, actor_and_patient
from booking_api.api.deps import MAX_ID, ReadSessionDep, now_of
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.core.errors import BookingError
from booking_api.core.inputs import PlainText, SafeDate
from booking_api.search.index import SlotIndex
from booking_api.search.services import MAX_LIMIT, SearchQuery, SortOrder, search_slots

router = APIRouter(prefix="/api", tags=["slots"], responses=ERROR_RESPONSES)
RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]


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


def slot_index_of(request: Request) -> SlotIndex:
    """The app's one slot index (made by the composition root)."""
    return request.app.state.slot_index


@router.get("/requests/{request_id}/slots", response_model=SearchResultPublic)
def search(request_id: RequestId, who: SignedIn, session: ReadSessionDep, request: Request,
           sort: SortOrder = SortOrder.SOONEST, from_date: SafeDate | None = None,
           to_date: SafeDate | None = None,
           max_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
           sites: Annotated[list[PlainText] | None, Query(max_length=100)] = None,
           limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
           ) -> SearchResultPublic | JSONResponse:
    """Free slots this request may take across every site, soonest or nearest first, with
    each site's earliest slot and its distance from the patient's home district."""
    _actor, patient_id = actor_and_patient(who)
    try:
        query = SearchQuery(sort=sort, from_date=from_date, to_date=to_date, max_km=max_km,
                            sites=frozenset(sites) if sites else None, limit=limit)
        result = search_slots(session, slot_index_of(request), request_id, query,
                              now=now_of(request), patient_id=patient_id)
    except BookingError as error:
        return booking_error_response(error)
    return SearchResultPublic.model_validate(result, from_attributes=True)
