"""Slot search for a clerk booking on a patient's behalf: the same search the patient's
pages use (slot index, slot rules), across every site, soonest or nearest first, or at one
site; offers, not promises (taking a time re-checks everything)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from booking_api.core.db import Database
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, SlotOffer, SortOrder, search_slots

OFFERS_PER_PAGE = 20


@dataclass(frozen=True)
class ClerkSearch:
    order: str
    """'soonest', 'nearest' or 'site'"""
    site_id: str | None = None
    from_date: date | None = None


def offers_for(db: Database, index: SlotIndex, request_id: int, search: ClerkSearch, *,
               now: datetime) -> list[SlotOffer]:
    """Free times the request may take, best first (BookingError if it cannot be booked)."""
    with db.reading() as session:
        return list(search_slots(session, index, request_id, query_of(search), now=now).slots)


def query_of(search: ClerkSearch) -> SearchQuery:
    sort = SortOrder.NEAREST if search.order == "nearest" else SortOrder.SOONEST
    sites = frozenset({search.site_id}) if search.order == "site" and search.site_id else None
    return SearchQuery(sort=sort, from_date=search.from_date, sites=sites,
                       limit=OFFERS_PER_PAGE)
