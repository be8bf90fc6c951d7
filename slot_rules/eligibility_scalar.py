"""Slot eligibility one slot at a time, in plain Python: the obvious way to write the rules.

It is the reference the vectorised engine is tested against and the baseline the benchmark
measures it against; it reads the same rule file and parameters, and shares no check code."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from math import asin, cos, inf, radians, sin, sqrt
from typing import Any

from domain.geography import EARTH_RADIUS_KM
from domain.vocabulary import Capability, Modality, Priority
from slot_rules.eligibility import EligibilityRuleset
from slot_rules.overrides import Override
from slot_rules.slot_request import (
    SlotRequest,
    local_date,
    local_day_end_minutes,
    local_midnight_minutes,
)
from slot_rules.slot_table import (
    CAPABILITY_BIT,
    FAMILY_BIT,
    MODALITY_CODE,
    SiteTable,
    SlotTable,
    capability_mask,
    epoch_minutes,
)


@dataclass(frozen=True)
class SlotRecord:
    """One slot as an object, with its site's attributes copied in."""

    start_min: int
    length_min: int
    site: int
    site_id: str
    room: int
    modality: int
    room_capabilities: int
    room_max_weight_kg: int
    template_families: int
    radiologist_present: bool
    free_run_min: int
    site_lat: float
    site_lon: float
    step_free: bool
    hoist: bool
    age_limit_years: float = inf


def slot_records(table: SlotTable, sites: SiteTable) -> list[SlotRecord]:
    columns = {f.name: getattr(table, f.name).tolist() for f in fields(table)}
    records = []
    for i in range(len(table)):
        row = {name: values[i] for name, values in columns.items()}
        s = row["site"]
        records.append(SlotRecord(**row, site_id=sites.site_ids[s], site_lat=float(sites.lat[s]),
                                  site_lon=float(sites.lon[s]), step_free=bool(sites.step_free[s]),
                                  hoist=bool(sites.hoist[s]), age_limit_years=(
                                      inf if sites.age_limit_years is None
                                      else float(sites.age_limit_years[s]))))
    return records


def eligible_one_by_one(ruleset: EligibilityRuleset, records: Iterable[SlotRecord],
                        request: SlotRequest, now: datetime,
                        overrides: Iterable[Override] = ()) -> list[bool]:
    """For each slot: does every rule in force pass (or is it overridden)?"""
    skipped = {o.rule_id for o in overrides}
    rules = [r for r in ruleset.active_rules(now) if r.rule_id not in skipped]
    return [all(_SCALAR[r.check.name](slot, request, now, r.params) for r in rules)
            for slot in records]


def _modality(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    return slot.modality == MODALITY_CODE[req.modality]


def _capabilities(slot: SlotRecord, req: SlotRequest, now: datetime,
                  p: Mapping[str, Any]) -> bool:
    return all(slot.room_capabilities & CAPABILITY_BIT[c] for c in req.required_capabilities)


def _paediatric(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    child = req.age_years is not None and req.age_years < p["under_years"]
    if not child or Modality(req.modality) not in p["modalities"]:
        return True
    return bool(slot.room_capabilities & capability_mask([Capability.PAEDIATRIC]))


def _weight(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    return req.weight_kg is None or slot.room_max_weight_kg >= req.weight_kg


def _family(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    return bool(slot.template_families & FAMILY_BIT[req.family])


def _duration(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    return slot.free_run_min >= req.duration_min


def _radiologist(slot: SlotRecord, req: SlotRequest, now: datetime,
                 p: Mapping[str, Any]) -> bool:
    needed = (req.exam_needs_radiologist or (req.contrast and p["for_contrast"])
              or (req.sedation and p["for_sedation"]))
    return slot.radiologist_present or not needed


def _future(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    return slot.start_min >= epoch_minutes(now)


def _notice(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    if req.prep_notice_days <= 0:
        return True
    first = local_date(now) + timedelta(days=req.prep_notice_days)
    return slot.start_min >= local_midnight_minutes(first)


def _window(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    if req.earliest_date and slot.start_min < local_midnight_minutes(req.earliest_date):
        return False
    return not (req.latest_date and slot.start_min >= local_day_end_minutes(req.latest_date))


def _two_week(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    if req.priority != Priority.TWO_WEEK_WAIT or req.referral_date is None:
        return True
    deadline = req.referral_date + timedelta(days=p["days"])
    return slot.start_min < local_day_end_minutes(deadline)


def _access(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    return (slot.step_free or not req.needs_step_free) and (slot.hoist or not req.needs_hoist)


def _age_range(slot: SlotRecord, req: SlotRequest, now: datetime,
               p: Mapping[str, Any]) -> bool:
    return req.age_years is None or req.age_years < slot.age_limit_years


def _site_choice(slot: SlotRecord, req: SlotRequest, now: datetime,
                 p: Mapping[str, Any]) -> bool:
    return req.acceptable_sites is None or slot.site_id in req.acceptable_sites


def _travel(slot: SlotRecord, req: SlotRequest, now: datetime, p: Mapping[str, Any]) -> bool:
    limit = req.max_travel_km if req.max_travel_km is not None else p["default_max_km"]
    if limit is None or req.home_lat is None:
        return True
    return _km(req.home_lat, req.home_lon, slot.site_lat, slot.site_lon) <= limit


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    lat1, lon1, lat2, lon2 = map(radians, (lat1, lon1, lat2, lon2))
    a = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(a))


_SCALAR: Mapping[str, Callable[[SlotRecord, SlotRequest, datetime, Mapping[str, Any]], bool]] = {
    "modality_matches": _modality, "room_has_capabilities": _capabilities,
    "paediatric_room": _paediatric, "room_takes_weight": _weight,
    "template_allows_family": _family, "duration_fits": _duration,
    "radiologist_present": _radiologist, "not_in_past": _future,
    "preparation_notice": _notice, "clinical_window": _window, "two_week_wait": _two_week,
    "site_access": _access, "site_age_range": _age_range, "acceptable_sites": _site_choice,
    "travel_distance": _travel,
}
