"""Who could take a freed slot, through the same rules as every booking path: patients on
the short-notice list (their days, times, distance and notice), patients booked later who
said yes to earlier offers (on the list with a booking), and appointable requests not yet
booked. Each must be in the state the booking path takes (appointable; appointed for a
move), is checked against the slot eligibility rules for the run of slots its exam needs and
ranked by `optimiser.backfill`; as each offer goes out it is judged again by the
appointability rules as they stand then (`appointability_failures_of`): any failing rule (an
MR-unsafe implant declared since the booking, say) rules it out. Nothing here sets a rule
aside. The requests read are the most urgent and longest waiting first (the ranking's own
first keys), `SQL_SHORTLIST` of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session, col

from booking_api.appointments.models import Appointment
from booking_api.appointments.taking import slot_run
from booking_api.core.columns import split_codes
from booking_api.core.errors import BookingError, RequestNotBookable
from booking_api.network.models import ExamType, Room, Site
from booking_api.requests.models import Request
from booking_api.requests.services import evaluate_request, evaluate_requests
from booking_api.short_notice.models import ShortNoticeEntry
from booking_api.slots.eligibility import (
    PatientChoices,
    RequestFacts,
    check_slot_eligible,
    load_many_request_facts,
    run_eligible,
    run_table,
    site_table,
    slot_request_for,
)
from booking_api.slots.models import DiarySession, Slot
from domain.geography import haversine_km
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from domain.vocabulary import Priority
from notifications.wording import LONDON
from optimiser.backfill import (
    PRIORITY_ORDER,
    BackfillPolicy,
    Candidate,
    CandidateSource,
    FreedSlot,
    Ranking,
    rank_candidates,
)
from slot_rules.slot_table import SlotTable

LONDON_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SQL_SHORTLIST = 150
"""Requests read per freed slot, most urgent and longest waiting first, before the rules."""
BASE_DNA_RATE = 0.04
PRIOR_WEIGHT = 12.5
"""The DNA estimate's prior: a patient with no history counts as the network's base rate;
each attended or missed appointment moves them from it (a Beta(0.5, 12) prior)."""


@dataclass(frozen=True)
class Gathered:
    ranking: Ranking
    refused: int
    """Requests the eligibility rules or the patient's own wishes ruled out."""


def gather_and_rank(session: Session, slot: Slot, now: datetime,
                    ranking_policy: BackfillPolicy, *, limit: int,
                    let_go: int | None = None) -> Gathered:
    """The ranked candidates for `slot` (at most `limit`, each appointable today), never
    the request whose appointment `let_go` just gave the slot up. The slot's rows and rule
    tables are made once and asked of every candidate."""
    room, site, diary = _places(session, slot)
    leaving = session.get(Appointment, let_go) if let_go else None
    shortlist = [row for row in _shortlist(session, slot, ranking_policy.min_days_sooner)
                 if leaving is None or row.request_id != leaving.request_id]
    facts = load_many_request_facts(session, [row.request_id for row in shortlist])
    risks = _dna_risks(session, {f.patient.id for f in facts.values()}, now)
    freed = _FreedRuns(session, slot, room, site)
    candidates, refused = [], 0
    for row in shortlist:
        fact = facts.get(row.request_id)
        if fact is None:
            continue
        candidate = _candidate(row, fact, freed, diary, now, risks.get(fact.patient.id))
        if candidate is None:
            refused += 1
        else:
            candidates.append(candidate)
    freed = FreedSlot(slot.id or 0, slot.start_at, slot.site_id)
    ranking = rank_candidates(freed, candidates, now, ranking_policy)
    return Gathered(Ranking(ranking.slot, ranking.ranked[:limit], ranking.excluded), refused)


def appointability_failures_of(session: Session, request_ids: Sequence[int],
                               now: datetime) -> dict[int, str | None]:
    """Why the appointability rules refuse each request today (None: no rule fails). Asked
    as offers go out, so an offer is judged by the rules as they stand when it is made; the
    requests' rows are read together (`evaluate_requests`)."""
    requests = list(session.scalars(select(Request).where(col(Request.id).in_(request_ids))))
    verdicts = evaluate_requests(session, requests, now.date())
    failures: dict[int, str | None] = dict.fromkeys(request_ids, "the request no longer exists")
    for request_id, verdict in verdicts.items():
        failures[request_id] = ("fails the appointability rules now: "
                                + "; ".join(v.reason for v in verdict.failures)
                                if verdict.failures else None)
    return failures


def check_one(session: Session, slot: Slot, request_id: int, now: datetime,
              ranking_policy: BackfillPolicy) -> Candidate:
    """One request a member of staff chose for the slot, through the same rules as anyone:
    RequestNotBookable or SlotNotEligible (with the rules' reasons) when it may not take it."""
    rows = _shortlist(session, slot, ranking_policy.min_days_sooner, request_id)
    facts = load_many_request_facts(session, [request_id])
    if not rows or request_id not in facts:
        raise RequestNotBookable(f"request {request_id} is neither appointable nor booked "
                                 "later on the short-notice list for this kind of exam")
    fact = facts[request_id]
    failures = evaluate_request(session, fact.request, now.date()).failures
    if failures:
        raise RequestNotBookable(f"request {request_id} fails the appointability rules now: "
                                 + "; ".join(v.reason for v in failures))
    room, site, diary = _places(session, slot)
    run = slot_run(session, slot, fact.exam.duration_min)
    check_slot_eligible(slot_request_for(fact, now), run, room, site, now)
    candidate = _candidate(rows[0], fact, _FreedRuns(session, slot, room, site), diary, now,
                           None)
    if candidate is None:
        raise RequestNotBookable(f"request {request_id} cannot take this slot: its days, times, "
                                 "distance or the slot run do not suit")
    return candidate


def _places(session: Session, slot: Slot) -> tuple[Room, Site, DiarySession]:
    room = session.get(Room, slot.room_id)
    site = session.get(Site, slot.site_id)
    diary = session.get(DiarySession, slot.session_id)
    assert room is not None and site is not None and diary is not None
    return room, site, diary


def _shortlist(session: Session, slot: Slot, min_days_sooner: int,
               request_id: int | None = None) -> Sequence:
    families = list(split_codes(slot.families))
    booked = (select(Appointment.request_id, Appointment.start_at)
              .where(Appointment.state == AppointmentState.BOOKED).subquery())
    later = slot.start_at + timedelta(days=min_days_sooner)
    urgency = case({p.value: i for i, p in enumerate(PRIORITY_ORDER)},
                   value=Request.__table__.c.priority, else_=len(PRIORITY_ORDER))
    query = (
        select(Request.id.label("request_id"), Request.state, ShortNoticeEntry.days,
               ShortNoticeEntry.periods, ShortNoticeEntry.max_km, ShortNoticeEntry.notice_hours,
               booked.c.start_at.label("booked_start"))
        .join(ExamType, ExamType.code == Request.exam_code)
        .outerjoin(ShortNoticeEntry, and_(ShortNoticeEntry.request_id == Request.id,
                                          ShortNoticeEntry.active))
        .outerjoin(booked, booked.c.request_id == Request.id)
        .where(ExamType.modality == slot.modality, col(ExamType.family).in_(families),
               or_(Request.state == RequestState.APPOINTABLE,
                   and_(Request.state == RequestState.APPOINTED,
                        col(ShortNoticeEntry.id).is_not(None), booked.c.start_at >= later)))
        .order_by(urgency, Request.received_at, Request.id).limit(SQL_SHORTLIST))
    if request_id is not None:
        query = query.where(Request.id == request_id)
    return session.execute(query).all()


class _FreedRuns:
    """A freed slot as the eligibility rules see it: its site's table made once, and the
    run of slots an exam of each length would take, with its table, made once per length."""

    def __init__(self, session: Session, slot: Slot, room: Room, site: Site) -> None:
        self.session, self.slot, self.room, self.site = session, slot, room, site
        self.sites = site_table([site])
        self._runs: dict[int, tuple[list[Slot], SlotTable] | None] = {}

    def run(self, duration_min: int) -> tuple[list[Slot], SlotTable] | None:
        """The run and its table, or None when the run is not all free."""
        if duration_min not in self._runs:
            try:
                run = slot_run(self.session, self.slot, duration_min)
            except BookingError:
                run = []
            free = bool(run) and all(s.status is SlotStatus.FREE for s in run)
            self._runs[duration_min] = (run, run_table(run, self.room)) if free else None
        return self._runs[duration_min]


def _candidate(row, facts: RequestFacts, freed: _FreedRuns, diary: DiarySession,
               now: datetime, dna_risk: float | None) -> Candidate | None:
    """The candidate, or None when a rule or the patient's wishes rule the slot out."""
    slot, site = freed.slot, freed.site
    on_list = row.days is not None
    if on_list and not _suits(row, slot, diary):
        return None
    choices = PatientChoices(max_travel_km=row.max_km) if on_list else PatientChoices()
    run = freed.run(facts.exam.duration_min)
    if run is None or not run_eligible(slot_request_for(facts, now, choices), run[1],
                                       freed.sites, now):
        return None
    home = facts.home
    distance = (float(haversine_km(home.lat, home.lon, site.lat, site.lon))
                if home is not None else None)
    source = (CandidateSource.BOOKED_LATER if row.booked_start is not None
              else CandidateSource.SHORT_NOTICE if on_list else CandidateSource.NOT_BOOKED)
    request = facts.request
    return Candidate(
        request_id=request.id or 0, patient_id=request.patient_id, source=source,
        priority=Priority(request.priority), referred_on=request.received_at.date(),
        distance_km=distance, max_km=row.max_km, notice_hours=row.notice_hours or 0,
        preparation_hours=facts.exam.min_notice_days * 24, booked_start=row.booked_start,
        dna_risk=dna_risk)


def _suits(row, slot: Slot, diary: DiarySession) -> bool:
    """The slot is on a day and in a period the patient said suit them."""
    weekday = LONDON_WEEKDAYS[slot.start_at.astimezone(LONDON).weekday()]
    return weekday in split_codes(row.days) and diary.period.value in split_codes(row.periods)


def _dna_risks(session: Session, patient_ids: set[int], now: datetime) -> dict[int, float]:
    """Each patient's chance of not attending, estimated from their own record (missed and
    attended appointments before `now`) shrunk to the network's base rate."""
    if not patient_ids:
        return {}
    rows = session.execute(
        select(Appointment.patient_id, Appointment.state, func.count())
        .where(col(Appointment.patient_id).in_(patient_ids),
               col(Appointment.state).in_([AppointmentState.DNA, AppointmentState.ATTENDED]),
               col(Appointment.start_at) < now)
        .group_by(Appointment.patient_id, Appointment.state)).all()
    counts: dict[int, dict[AppointmentState, int]] = {}
    for patient_id, state, count in rows:
        counts.setdefault(patient_id, {})[AppointmentState(state)] = count
    risks = {}
    for patient_id in patient_ids:
        seen = counts.get(patient_id, {})
        missed = seen.get(AppointmentState.DNA, 0)
        total = missed + seen.get(AppointmentState.ATTENDED, 0)
        risks[patient_id] = (missed + BASE_DNA_RATE * PRIOR_WEIGHT) / (total + PRIOR_WEIGHT)
    return risks
