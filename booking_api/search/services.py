"""Slot search across the whole network for one request: the free slots the slot rules let it
take, within the patient's own constraints (dates, sites, travel distance), sorted by soonest
or nearest, with each site's earliest slot and distance from the patient's home district.

It reads the in-memory `SlotIndex` (caught up from the database first) and judges every slot
of the exam's modality with slot_rules' vectorised evaluation. Expired holds count as free.
Results are offers, not promises: taking a slot re-checks everything under the lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

import numpy as np
from sqlmodel import Session

from booking_api.core.db import READ_ONLY, Database
from booking_api.core.errors import InvalidInput, RequestNotBookable
from booking_api.core.inputs import date_problem, number_problem
from booking_api.search.index import SlotColumns, SlotIndex
from booking_api.slots.eligibility import (
    PatientChoices,
    load_request_facts,
    slot_eligibility_rules,
    slot_request_for,
)
from domain.lifecycle import RequestState, SlotStatus
from slot_rules.eligibility import SlotVerdict
from slot_rules.overrides import Override
from slot_rules.slot_request import local_day_end_minutes, local_midnight_minutes

SEARCHABLE = frozenset({RequestState.APPOINTABLE, RequestState.APPOINTED})
MAX_LIMIT = 200
MINUTES_PER_DAY = 24 * 60
logger = logging.getLogger(__name__)


class SortOrder(StrEnum):
    SOONEST = "soonest"
    NEAREST = "nearest"


@dataclass(frozen=True)
class SearchQuery:
    sort: SortOrder = SortOrder.SOONEST
    from_date: date | None = None
    to_date: date | None = None
    max_km: float | None = None
    sites: frozenset[str] | None = None
    limit: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", "limit")
        if self.max_km is not None and not self.max_km > 0:
            raise InvalidInput("max_km must be a positive number of km", "max_km")
        if self.max_km is not None and number_problem(self.max_km):
            raise InvalidInput("max_km must be a finite number of km", "max_km")
        for name in ("from_date", "to_date"):
            value = getattr(self, name)
            if value is not None and date_problem(value):
                raise InvalidInput(f"{name} {date_problem(value)}", name)
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise InvalidInput("from_date is after to_date", "to_date")


@dataclass(frozen=True)
class SlotOffer:
    slot_id: int
    site_id: str
    site_name: str
    room_id: str
    start_at: datetime
    end_at: datetime
    distance_km: float | None
    fhir_status: str = SlotStatus.FREE.value


@dataclass(frozen=True)
class SiteSummary:
    site_id: str
    site_name: str
    earliest_start: datetime
    distance_km: float | None
    eligible_slots: int


@dataclass(frozen=True)
class SearchResult:
    request_id: int
    sort: SortOrder
    slots_considered: int
    eligible_slots: int
    slots: tuple[SlotOffer, ...]
    sites: tuple[SiteSummary, ...]


def search_slots(session: Session, index: SlotIndex, request_id: int, query: SearchQuery, *,
                 now: datetime, patient_id: int | None = None) -> SearchResult:
    """Eligible free slots for the request across every site, best `query.limit` first."""
    _read_without_transaction(session)
    facts = load_request_facts(session, request_id, patient_id)
    request = facts.request
    if request.state not in SEARCHABLE:
        raise RequestNotBookable(f"request {request_id} is {request.state.value}; slots can be "
                                 "searched only for appointable or appointed requests")
    wanted = slot_request_for(facts, now, PatientChoices(query.max_km, query.sites))
    index.refresh(session, wait=False)
    view = index.view(wanted.modality, int(now.timestamp()))
    verdict = slot_eligibility_rules().evaluate(view.table, index.sites, wanted, now)
    eligible = np.flatnonzero(verdict.mask & view.free & _dates(view.table.start_min, query))
    site_km = verdict.context.site_km
    starts = view.table.start_min[eligible]
    sites = view.table.site[eligible]
    counts = np.bincount(sites, minlength=len(index.sites.site_ids))
    chosen = _best(eligible, starts, sites, counts, site_km, query)
    return SearchResult(
        request_id=request_id, sort=query.sort, slots_considered=len(view.table),
        eligible_slots=len(eligible),
        slots=tuple(_offer(index, view.columns, view.rows.start + row, site_km) for row in chosen),
        sites=_site_summaries(index, starts, sites, counts, site_km, query.sort))


@dataclass(frozen=True)
class RefusedOffer:
    """A free time the slot rules refuse this request, and the verdicts of the rules that
    refuse it (each one a rule someone may set aside)."""

    offer: SlotOffer
    refusals: tuple[SlotVerdict, ...]


def search_refused_slots(session: Session, index: SlotIndex, request_id: int,
                         query: SearchQuery, *, now: datetime) -> tuple[RefusedOffer, ...]:
    """Free times the request could take only if overridable slot rules were set aside
    (hard stops and rules no one may override still apply), best `query.limit` first: what a
    clerk may book with an override and a reason."""
    _read_without_transaction(session)
    facts = load_request_facts(session, request_id)
    if facts.request.state not in SEARCHABLE:
        raise RequestNotBookable(f"request {request_id} is {facts.request.state.value}; slots "
                                 "can be searched only for appointable or appointed requests")
    wanted = slot_request_for(facts, now, PatientChoices(query.max_km, query.sites))
    index.refresh(session, wait=False)
    view = index.view(wanted.modality, int(now.timestamp()))
    rules = slot_eligibility_rules()
    strict = rules.evaluate(view.table, index.sites, wanted, now)
    relaxed = rules.evaluate(view.table, index.sites, wanted, now, [
        Override(rule.rule_id, min(rule.meta.override_roles), "search", "search")
        for rule in rules.active_rules(now)
        if rule.meta.overridable and rule.meta.override_roles])
    refused = np.flatnonzero(relaxed.mask & ~strict.mask & view.free
                             & _dates(view.table.start_min, query))
    starts = view.table.start_min[refused]
    sites = view.table.site[refused]
    counts = np.bincount(sites, minlength=len(index.sites.site_ids))
    chosen = _best(refused, starts, sites, counts, strict.context.site_km, query)
    return tuple(RefusedOffer(
        _offer(index, view.columns, view.rows.start + row, strict.context.site_km),
        tuple(v for v in strict.explain_slot(int(row)) if not v.passed)) for row in chosen)


def _read_without_transaction(session: Session) -> None:
    """On PostgreSQL, a read-only session (`core.db.read_only`) that has not started yet
    reads in autocommit: the search's reads need no common snapshot (the index is a cache,
    re-checked under the lock when a slot is taken), and BEGIN and ROLLBACK would be two more
    round trips per search. A session that may write is left as it is."""
    bind = session.get_bind()
    if (bind.dialect.name == "postgresql" and bind.get_execution_options().get(READ_ONLY)
            and not session.in_transaction()):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _dates(start_min: np.ndarray, query: SearchQuery) -> np.ndarray | bool:
    ok: np.ndarray | bool = True
    if query.from_date is not None:
        ok = start_min >= local_midnight_minutes(query.from_date)
    if query.to_date is not None:
        ok = ok & (start_min < local_day_end_minutes(query.to_date))
    return ok


def _best(eligible: np.ndarray, starts: np.ndarray, sites: np.ndarray, counts: np.ndarray,
          site_km: np.ndarray | None, query: SearchQuery) -> np.ndarray:
    """The `limit` best eligible rows, in order: by start, or by site distance then start."""
    if query.sort is not SortOrder.NEAREST or site_km is None:
        return eligible[_soonest(starts, query.limit)]
    chosen: list[np.ndarray] = []
    wanted = query.limit
    for site in np.argsort(site_km, kind="stable"):
        if wanted <= 0:
            break
        if counts[site] == 0:
            continue
        of_site = np.flatnonzero(sites == site)
        best = of_site[_soonest(starts[of_site], wanted)]
        chosen.append(eligible[best])
        wanted -= len(best)
    return np.concatenate(chosen) if chosen else eligible[:0]


def _soonest(starts: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the `limit` smallest starts, in order, without sorting everything: look
    at a window from the earliest start, widening it until it holds enough."""
    if len(starts) <= limit:
        return np.argsort(starts, kind="stable")
    first, window = int(starts.min()), MINUTES_PER_DAY
    while True:
        candidates = np.flatnonzero(starts < first + window)
        if len(candidates) >= limit:
            order = np.argsort(starts[candidates], kind="stable")[:limit]
            return candidates[order]
        window *= 4


def _offer(index: SlotIndex, c: SlotColumns, position: int,
           site_km: np.ndarray | None) -> SlotOffer:
    site = int(c.site[position])
    start = int(c.start_min[position])
    return SlotOffer(
        slot_id=int(c.ids[position]), site_id=index.sites.site_ids[site],
        site_name=index.site_names[site], room_id=index.room_ids[int(c.room[position])],
        start_at=_moment(start), end_at=_moment(start + int(c.length_min[position])),
        distance_km=_km(site_km, site))


def _site_summaries(index: SlotIndex, starts: np.ndarray, sites: np.ndarray,
                    counts: np.ndarray, site_km: np.ndarray | None,
                    sort: SortOrder) -> tuple[SiteSummary, ...]:
    earliest = np.full(len(counts), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, sites, starts)
    summaries = [SiteSummary(site_id=index.sites.site_ids[s], site_name=index.site_names[s],
                             earliest_start=_moment(int(earliest[s])),
                             distance_km=_km(site_km, s), eligible_slots=int(counts[s]))
                 for s in np.flatnonzero(counts)]
    if sort is SortOrder.NEAREST and site_km is not None:
        return tuple(sorted(summaries, key=lambda s: (s.distance_km, s.earliest_start)))
    return tuple(sorted(summaries, key=lambda s: s.earliest_start))


def _km(site_km: np.ndarray | None, site: int) -> float | None:
    return None if site_km is None else round(float(site_km[site]), 1)


def _moment(epoch_min: int) -> datetime:
    return datetime.fromtimestamp(epoch_min * 60, tz=UTC)


def warm_index(db: Database, index: SlotIndex) -> None:
    """Load the index now (as a server starts), so the first search does not wait for it. A
    database not migrated yet is logged and left: the first search loads the index then."""
    try:
        with db.reading() as session:
            index.refresh(session)
    except Exception:
        logger.warning("slot index warm-up failed; the first search will load it",
                       exc_info=True)
