"""What a patient can choose from, as frozen offers for the pages: the sites with a free
time for their request (distance, earliest time, access notes), the dates with a free time
at a site (about ten a page), and the times on one date. Each question is one search of the
slot index in a short read session. Offers, not promises: taking a time re-checks it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from booking_api.core.db import Database
from booking_api.network.directory import SiteDetails, sites_by_id
from booking_api.search.index import SlotIndex
from booking_api.search.services import (
    SearchQuery,
    SearchResult,
    SlotOffer,
    SortOrder,
    search_slots,
)
from slot_rules.slot_request import LONDON

DATES_PER_PAGE = 10
MAX_TIMES_PER_DAY = 200


@dataclass(frozen=True)
class SiteChoice:
    details: SiteDetails
    earliest_start: datetime
    distance_km: float | None


@dataclass(frozen=True)
class PatientSearch:
    """One patient's search for one request at one moment."""

    db: Database
    index: SlotIndex
    request_id: int
    patient_id: int
    now: datetime

    def sites(self, compare: str, search: str = "") -> list[SiteChoice]:
        """Every site with a free time that `search` finds (a name, town or postcode; blank:
        all): soonest first (sites whose earliest day is the same, nearest first), nearest
        first, or by name."""
        sort = SortOrder.NEAREST if compare == "nearest" else SortOrder.SOONEST
        with self.db.reading() as session:
            summaries = self._search(session, SearchQuery(sort=sort, limit=1)).sites
            details = sites_by_id(session, [s.site_id for s in summaries])
        choices = [SiteChoice(details[s.site_id], s.earliest_start, s.distance_km)
                   for s in summaries
                   if s.site_id in details and details[s.site_id].matches(search)]
        if compare == "site":
            choices.sort(key=lambda c: c.details.name)
        elif compare != "nearest":
            choices.sort(key=_soonest_then_nearest)
        return choices

    def dates(self, site_id: str, start: date | None) -> tuple[list[date], bool]:
        """Up to ten dates from `start` with a free time at the site, and whether there
        are later ones."""
        found: list[date] = []
        day = start
        with self.db.reading() as session:
            while len(found) <= DATES_PER_PAGE:
                result = self._search(session, SearchQuery(
                    from_date=day, sites=frozenset({site_id}), limit=1))
                if not result.slots:
                    break
                found.append(local_date(result.slots[0].start_at))
                day = found[-1] + timedelta(days=1)
        return found[:DATES_PER_PAGE], len(found) > DATES_PER_PAGE

    def times(self, site_id: str, day: date) -> list[SlotOffer]:
        """The free times at the site on the day, in time order."""
        with self.db.reading() as session:
            result = self._search(session, SearchQuery(
                from_date=day, to_date=day, sites=frozenset({site_id}),
                limit=MAX_TIMES_PER_DAY))
        return sorted(result.slots, key=lambda s: (s.start_at, s.slot_id))

    def _search(self, session: Session, query: SearchQuery) -> SearchResult:
        return search_slots(session, self.index, self.request_id, query, now=self.now,
                            patient_id=self.patient_id)


def _soonest_then_nearest(choice: SiteChoice) -> tuple[date, float, str]:
    """The earliest day the patient sees, then distance: 9am and 4pm on one day tie."""
    distance = choice.distance_km if choice.distance_km is not None else math.inf
    return local_date(choice.earliest_start), distance, choice.details.name


def site_details(db: Database, site_id: str) -> SiteDetails | None:
    with db.reading() as session:
        return sites_by_id(session, [site_id]).get(site_id)


def local_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()
