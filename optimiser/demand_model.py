"""A seeded stand-in for the demand forecast: weekly demand per exam family × area × priority,
scaled to a multiple of what the network's staff can run on weekday days. Used by the benchmark
and the CLI until forecasts are wired in; it returns the same rows a forecast does."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from domain.network import Network
from domain.request_mix import FAMILY_SHARE
from domain.session_templates import SessionTemplate
from domain.vocabulary import AgeBand, ExamFamily, Modality, Priority, SessionPeriod, StaffRole
from optimiser.instance import session_fits
from optimiser.problem import DemandRow

PRIORITY_SHARE = {
    Modality.XR: (0.04, 0.16, 0.65, 0.15),
    Modality.US: (0.08, 0.17, 0.55, 0.20),
    Modality.CT: (0.15, 0.25, 0.40, 0.20),
    Modality.MR: (0.10, 0.20, 0.45, 0.25),
}
"""Share of each modality's requests by priority (two-week wait, urgent, routine, planned)."""

PAEDIATRIC_FAMILIES = frozenset({ExamFamily.US_PAEDIATRIC, ExamFamily.MR_PAEDIATRIC})
GENERAL_CHILD_SHARE = 0.07
"""Children's share of the general families' requests in the synthetic history (its patient
pool's ages and referral rates by age)."""
DAYTIME = (SessionPeriod.MORNING, SessionPeriod.AFTERNOON)
AREA_NOISE_SHAPE = 25.0
"""Gamma shape of week-to-week noise per area and family (coefficient of variation 0.2)."""


def synthetic_weekly_demand(network: Network, templates: Mapping[str, SessionTemplate],
                            week_start, seed: int, load: float = 1.10) -> tuple[DemandRow, ...]:
    """Demand of `load` × the weekday-daytime capacity staff can run, split by the exam
    catalogue's family mix, the areas' population weights, fixed priority shares and the
    children's share of each family."""
    rng = np.random.default_rng(seed)
    capacity = weekday_daytime_capacity(network, templates, week_start)
    mix = family_mix()
    areas = sorted(network.demand_areas, key=lambda a: a.area_id)
    weights = np.array([a.population_weight for a in areas])
    rows = []
    for family in ExamFamily:
        total = load * capacity[family.modality] * mix[family]
        noisy = weights * rng.gamma(AREA_NOISE_SHAPE, 1 / AREA_NOISE_SHAPE, len(areas))
        per_area = total * noisy / noisy.sum()
        bands = ((AgeBand.CHILD, child_share(family)), (AgeBand.ADULT, 1 - child_share(family)))
        for area, count in zip(areas, per_area, strict=True):
            for priority, share in zip(Priority, PRIORITY_SHARE[family.modality], strict=True):
                rows += [DemandRow(family, area.area_id, priority, float(count * share * part),
                                   band) for band, part in bands if part > 0]
    return tuple(rows)


def child_share(family: ExamFamily) -> float:
    """Share of a family's requests for children (under 16): all of the paediatric lists, none
    of obstetrics, and about 7 % of the rest, as in the synthetic history's patients."""
    if family in PAEDIATRIC_FAMILIES:
        return 1.0
    return 0.0 if family is ExamFamily.US_OBSTETRIC else GENERAL_CHILD_SHARE




def family_mix() -> dict[ExamFamily, float]:
    """Family shares normalised within each modality."""
    by_modality = {m: sum(v for f, v in FAMILY_SHARE.items() if f.modality is m)
                   for m in Modality}
    return {f: v / by_modality[f.modality] for f, v in FAMILY_SHARE.items()}


def weekday_daytime_capacity(network: Network, templates: Mapping[str, SessionTemplate],
                             week_start) -> dict[Modality, float]:
    """Exams per week each modality can run in weekday morning and afternoon sessions: room
    sessions × the share staff can cover at each site × exams per session for the family mix."""
    from datetime import timedelta

    weekdays = [week_start + timedelta(days=d) for d in range(7)]
    weekdays = [day for day in weekdays if day.weekday() < 5]
    crew = {m: max(t.crew_per_room for t in templates.values() if t.modality is m)
            for m in Modality}
    role = {m: StaffRole.SONOGRAPHER if m is Modality.US else StaffRole.RADIOGRAPHER
            for m in Modality}
    per_session = _exams_per_session(templates)
    capacity = dict.fromkeys(Modality, 0.0)
    for site in network.sites:
        sessions = sum(session_fits(site, day, p) for day in weekdays for p in DAYTIME)
        rooms = {m: sum(1 for r in network.rooms_at(site.site_id) if r.modality is m)
                 for m in Modality}
        for staff_role in (StaffRole.RADIOGRAPHER, StaffRole.SONOGRAPHER):
            modalities = [m for m in Modality if role[m] is staff_role]
            wanted = sum(rooms[m] * sessions * crew[m] for m in modalities)
            supply = sum(g.sessions_per_week for g in network.staff_at(site.site_id)
                         if g.role is staff_role)
            cover = min(1.0, supply / wanted) if wanted else 0.0
            for m in modalities:
                capacity[m] += cover * rooms[m] * sessions * per_session[m]
    return capacity


def _exams_per_session(templates: Mapping[str, SessionTemplate]) -> dict[Modality, float]:
    """Exams a session yields for the modality's family mix (a harmonic mean over families of
    the best single-family template's capacity)."""
    mix = family_mix()
    result = {}
    for modality in Modality:
        minutes_per_exam = 0.0
        for family in (f for f in ExamFamily if f.modality is modality):
            single = [t.capacity_for(family) for t in templates.values()
                      if t.families == frozenset({family})]
            offered = single or [t.total_slots for t in templates.values()
                                 if family in t.families]
            if offered and mix[family] > 0:
                minutes_per_exam += mix[family] / max(offered)
        result[modality] = 1.0 / minutes_per_exam if minutes_per_exam else 0.0
    return result
