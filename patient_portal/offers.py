"""What the patient can choose from, read through booking_api's slot search: sites (with
distance, earliest date and access notes), dates with a free time at a site (about ten a
page), and the times on one date. Offers, not promises: holding re-checks under the lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from booking_api.appointments.models import Appointment
from booking_api.appointments.services import appointments_of_patient
from booking_api.network.directory import SiteDetails, sites_by_id
from booking_api.slots.search import (
    SearchQuery,
    SearchResult,
    SlotOffer,
    SortOrder,
    search_slots,
)
from booking_api.slots.search_index import SlotIndex
from domain.lifecycle import AppointmentState
from patient_portal.rendering import LONDON

DATES_PER_PAGE = 10
MAX_TIMES_PER_DAY = 200
NEAREST_OTHER_TIMES = 5
NOON, EVENING = 12, 17


@dataclass(frozen=True)
class SiteChoice:
    details: SiteDetails
    earliest_start: datetime
    distance_km: float | None


@dataclass(frozen=True)
class Searcher:
    """One patient's search: the request, the slot index and the moment."""

    session: Session
    index: SlotIndex
    request_id: int
    patient_id: int
    now: datetime

    def _search(self, query: SearchQuery) -> SearchResult:
        return search_slots(self.session, self.index, self.request_id, query, now=self.now,
                            patient_id=self.patient_id)

    def sites(self, compare: str) -> list[SiteChoice]:
        """Every site with a free time, soonest or nearest first, or by name."""
        sort = SortOrder.NEAREST if compare == "nearest" else SortOrder.SOONEST
        summaries = self._search(SearchQuery(sort=sort, limit=1)).sites
        details = sites_by_id(self.session, [s.site_id for s in summaries])
        choices = [SiteChoice(details[s.site_id], s.earliest_start, s.distance_km)
                   for s in summaries if s.site_id in details]
        if compare == "site":
            choices.sort(key=lambda c: c.details.name)
        return choices

    def dates(self, site_id: str, start: date | None) -> tuple[list[date], bool]:
        """Up to ten dates from `start` with a free time at the site, and whether there
        are later ones."""
        found: list[date] = []
        day = start
        while len(found) <= DATES_PER_PAGE:
            result = self._search(SearchQuery(from_date=day, sites=frozenset({site_id}),
                                              limit=1))
            if not result.slots:
                break
            found.append(local_date(result.slots[0].start_at))
            day = found[-1] + timedelta(days=1)
        return found[:DATES_PER_PAGE], len(found) > DATES_PER_PAGE

    def times(self, site_id: str, day: date) -> list[SlotOffer]:
        result = self._search(SearchQuery(from_date=day, to_date=day,
                                          sites=frozenset({site_id}),
                                          limit=MAX_TIMES_PER_DAY))
        return sorted(result.slots, key=lambda s: (s.start_at, s.slot_id))


def one_per_time(offers: list[SlotOffer]) -> list[SlotOffer]:
    """One offer per start time (several rooms may be free at 9am; the patient chooses a
    time, not a room), in time order."""
    firsts: dict[datetime, SlotOffer] = {}
    for offer in offers:
        firsts.setdefault(offer.start_at, offer)
    return sorted(firsts.values(), key=lambda s: s.start_at)


def same_time(offers: list[SlotOffer], chosen: SlotOffer) -> list[SlotOffer]:
    """The chosen offer first, then the other free slots starting at the same time."""
    return [chosen] + [o for o in offers if o.start_at == chosen.start_at and o != chosen]


def parts_of_day(offers: list[SlotOffer]) -> list[tuple[str, list[SlotOffer]]]:
    """Times grouped as morning (before 12pm), afternoon (to 5pm) and evening, in UK time,
    leaving out empty parts: a day's fifty times are easier to scan in three short lists."""
    groups: dict[str, list[SlotOffer]] = {"Morning": [], "Afternoon": [], "Evening": []}
    for offer in sorted(offers, key=lambda o: o.start_at):
        hour = offer.start_at.astimezone(LONDON).hour
        part = "Morning" if hour < NOON else "Afternoon" if hour < EVENING else "Evening"
        groups[part].append(offer)
    return [(part, times) for part, times in groups.items() if times]


def nearest_times(offers: list[SlotOffer], wanted: datetime) -> list[SlotOffer]:
    """The few free times closest to the one the patient wanted, in time order."""
    closest = sorted(one_per_time(offers),
                     key=lambda s: abs((s.start_at - wanted).total_seconds()))
    return sorted(closest[:NEAREST_OTHER_TIMES], key=lambda s: s.start_at)


def local_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def active_appointment(session: Session, patient_id: int, request_id: int,
                       state: AppointmentState) -> Appointment | None:
    """The request's appointment in `state` (held or booked), if it has one."""
    for appointment in appointments_of_patient(session, patient_id):
        if appointment.request_id == request_id and appointment.state is state:
            return appointment
    return None
