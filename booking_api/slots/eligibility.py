"""Database rows to slot_rules inputs: a request and its patient become a `SlotRequest`, slot
rows become a `SlotTable`, sites a `SiteTable`. The rules themselves live in slot_rules; this
module only adapts, so the search and the booking path judge a slot by the same rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import numpy as np
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import load_only
from sqlmodel import Session

from booking_api.core.columns import split_codes
from booking_api.core.errors import NotFound, OverrideNotAllowed, SlotNotEligible
from booking_api.network.models import DemandArea, ExamType, Room, Site
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from domain.session_templates import session_templates
from domain.vocabulary import Capability, ExamFamily, Modality, Priority
from slot_rules.eligibility import EligibilityRuleset, SlotVerdict
from slot_rules.loading import shipped_slot_eligibility
from slot_rules.overrides import Override, OverrideRefused
from slot_rules.slot_request import SlotRequest
from slot_rules.slot_table import (
    MODALITY_CODE,
    SiteTable,
    SlotTable,
    capability_mask,
    epoch_minutes,
    family_mask,
)


@dataclass(frozen=True)
class PatientChoices:
    """What the patient asked the search to respect, beyond the clinical rules."""

    max_travel_km: float | None = None
    acceptable_sites: frozenset[str] | None = None


def slot_eligibility_rules() -> EligibilityRuleset:
    """The rule set every booking path applies (the shipped one)."""
    return shipped_slot_eligibility()


@dataclass(frozen=True)
class RequestFacts:
    """A request with its patient, exam and home area, read in one query."""

    request: Request
    patient: Patient
    exam: ExamType
    home: DemandArea | None


def load_request_facts(session: Session, request_id: int,
                       patient_id: int | None = None) -> RequestFacts:
    """The request and what the rules need with it; NotFound if absent or (for a patient)
    not theirs. The home area is the patient's demand area, else their postcode district's."""
    row = session.execute(_facts_query(), {"request_id": request_id}).first()
    if row is None or (patient_id is not None and row[0].patient_id != patient_id):
        raise NotFound("request", request_id, "request_id")
    return RequestFacts(*row)


def load_request_and_slot(session: Session, request_id: int, slot_id: int,
                          patient_id: int | None = None
                          ) -> tuple[RequestFacts, tuple[Slot, Room, Site]]:
    """`load_request_facts` and the slot with its room and site, in one round trip;
    NotFound naming the request first, then the slot."""
    row = session.execute(_facts_and_slot_query(),
                          {"request_id": request_id, "slot_id": slot_id}).first()
    if row is None or (patient_id is not None and row[0].patient_id != patient_id):
        raise NotFound("request", request_id, "request_id")
    if row[4] is None or row[5] is None or row[6] is None:
        raise NotFound("slot", slot_id, "slot_id")
    return RequestFacts(*row[:4]), (row[4], row[5], row[6])


def load_many_request_facts(session: Session,
                            request_ids: Sequence[int]) -> dict[int, RequestFacts]:
    """`load_request_facts` of many requests in one query (those that exist)."""
    if not request_ids:
        return {}
    rows = session.execute(_facts_of_any().where(Request.id.in_(request_ids))).all()
    return {row[0].id: RequestFacts(*row) for row in rows}


@cache
def _facts_query() -> Select:
    """Built once (with bind parameters): building a statement costs more than running it."""
    return _facts_of_any().where(Request.id == bindparam("request_id"))


def _facts_of_any() -> Select:
    """Of the patient, exam, area, room and site only what the rules read is loaded (the
    booking path reads this on every call; another attribute would load when touched)."""
    return (select(Request, Patient, ExamType, DemandArea)
            .join(Patient, Patient.id == Request.patient_id)
            .join(ExamType, ExamType.code == Request.exam_code)
            .outerjoin(DemandArea, DemandArea.area_id == func.coalesce(
                Patient.area_id, Patient.postcode_district))
            .options(load_only(Patient.date_of_birth, Patient.needs_step_free,
                               Patient.needs_hoist),
                     load_only(ExamType.modality, ExamType.family, ExamType.duration_min,
                               ExamType.required_capabilities, ExamType.contrast,
                               ExamType.radiologist_present, ExamType.min_notice_days),
                     load_only(DemandArea.lat, DemandArea.lon)))


@cache
def _facts_and_slot_query() -> Select:
    return (_facts_query().add_columns(Slot, Room, Site)
            .outerjoin(Slot, Slot.id == bindparam("slot_id"))
            .outerjoin(Room, Room.room_id == Slot.room_id)
            .outerjoin(Site, Site.site_id == Slot.site_id)
            .options(load_only(Room.capabilities, Room.max_weight_kg),
                     load_only(Site.lat, Site.lon, Site.step_free, Site.hoist,
                               Site.age_limit_years)))


def slot_request_for(facts: RequestFacts, now: datetime,
                     choices: PatientChoices = PatientChoices()) -> SlotRequest:
    """What the rules need to know about this request, its exam and its patient."""
    request, patient, exam, home = facts.request, facts.patient, facts.exam, facts.home
    return SlotRequest(
        modality=Modality(exam.modality), family=ExamFamily(exam.family),
        duration_min=exam.duration_min,
        required_capabilities=frozenset(Capability(c)
                                        for c in split_codes(exam.required_capabilities)),
        contrast=exam.contrast, exam_needs_radiologist=exam.radiologist_present,
        prep_notice_days=exam.min_notice_days, priority=Priority(request.priority),
        referral_date=request.received_at.date(), earliest_date=request.earliest_date,
        latest_date=request.latest_date,
        age_years=_age_years(patient.date_of_birth, now.date()),
        needs_step_free=patient.needs_step_free, needs_hoist=patient.needs_hoist,
        home_lat=home.lat if home else None, home_lon=home.lon if home else None,
        max_travel_km=choices.max_travel_km, acceptable_sites=choices.acceptable_sites)


def site_table(sites: Sequence[Site]) -> SiteTable:
    return SiteTable(site_ids=tuple(s.site_id for s in sites),
                     lat=np.array([s.lat for s in sites], dtype=float),
                     lon=np.array([s.lon for s in sites], dtype=float),
                     step_free=np.array([s.step_free for s in sites], dtype=bool),
                     hoist=np.array([s.hoist for s in sites], dtype=bool),
                     age_limit_years=SiteTable.age_limits(s.age_limit_years for s in sites))


def check_slot_eligible(request: SlotRequest, slots: Sequence[Slot], room: Room, site: Site,
                        now: datetime, overrides: Iterable[Override] = ()) -> None:
    """Raise SlotNotEligible with every failing rule's reason unless the run of `slots` (the
    first slot and those the exam runs on into, in `room` at `site`) may take the request."""
    try:
        verdict = slot_eligibility_rules().evaluate(run_table(slots, room), site_table([site]),
                                                   request, now, overrides)
    except OverrideRefused as refused:
        raise OverrideNotAllowed(str(refused)) from refused
    if not verdict.mask[0]:
        reasons = [v.reason for v in verdict.explain_slot(0) if not v.passed]
        raise SlotNotEligible(reasons or ["the rules refuse this slot"])


def slot_refusals(request: SlotRequest, slots: Sequence[Slot], room: Room, site: Site,
                  now: datetime) -> list[SlotVerdict]:
    """The verdicts of the rules that refuse this run of slots for the request (none: it may
    take it), each with the clerk-readable reason."""
    verdict = slot_eligibility_rules().evaluate(run_table(slots, room), site_table([site]),
                                               request, now)
    return [] if verdict.mask[0] else [v for v in verdict.explain_slot(0) if not v.passed]


def run_table(slots: Sequence[Slot], room: Room) -> SlotTable:
    """A run of slots (the first and those the exam runs on into) as the rules' one-row
    table."""
    first = slots[0]
    return SlotTable(
        start_min=np.array([epoch_minutes(first.start_at)], dtype=np.int64),
        length_min=np.array([_minutes(first)], dtype=np.int32),
        site=np.array([0], dtype=np.int16), room=np.array([0], dtype=np.int32),
        modality=np.array([MODALITY_CODE[Modality(first.modality)]], dtype=np.int8),
        room_capabilities=np.array([capability_mask(split_codes(room.capabilities))],
                                   dtype=np.uint16),
        room_max_weight_kg=np.array([room.max_weight_kg], dtype=np.int16),
        template_families=np.array([families_mask(first.families)], dtype=np.uint32),
        radiologist_present=np.array([radiologist_rostered(first.template_id)], dtype=bool),
        free_run_min=np.array([sum(_minutes(s) for s in slots)], dtype=np.int32))


def run_eligible(request: SlotRequest, run: SlotTable, sites: SiteTable,
                 now: datetime) -> bool:
    """Whether the rules let the request take a run already tabled (`run_table`, with its
    site's `site_table`), no rule set aside: the same verdict as `check_slot_eligible`
    without its reasons, for asking it of many requests against one freed slot."""
    return bool(slot_eligibility_rules().evaluate(run, sites, request, now).mask[0])


@cache
def families_mask(families: str) -> int:
    """Bitmask of a slot's ';'-joined exam families (unknown codes are ignored)."""
    known = {f.value for f in ExamFamily}
    return family_mask(ExamFamily(code) for code in split_codes(families) if code in known)


def radiologist_rostered(template_id: str | None) -> bool:
    """Whether the session template that made the slot has a radiologist on site."""
    template = session_templates().get(template_id or "")
    return bool(template and template.radiologist_required)


def _minutes(slot: Slot) -> int:
    return int((slot.end_at - slot.start_at).total_seconds() // 60)


def _age_years(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
