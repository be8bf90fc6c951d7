"""An independent check of a diary plan against the raw network, templates and rota: it shares
no code with the solvers beyond the data classes, so a modelling slip shows up here. Returns
every violation found, in words; an empty list means every hard rule holds."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

from domain.staff_availability import StaffCalendar
from domain.vocabulary import CHILD_UNDER_YEARS, AgeBand, Capability, SessionPeriod, StaffRole
from optimiser.problem import DiaryPlan, DiaryProblem

CLINICAL = {Capability.CARDIAC, Capability.PAEDIATRIC, Capability.FLUOROSCOPY}


def check_plan(problem: DiaryProblem, plan: DiaryPlan) -> list[str]:
    return (_session_violations(problem, plan) + _staff_violations(problem, plan)
            + _cover_violations(problem, plan) + _allocation_violations(problem, plan))


def _session_violations(problem: DiaryProblem, plan: DiaryPlan) -> list[str]:
    rooms = {room.room_id: room for room in problem.network.rooms}
    sites = problem.network.site_by_id
    week = {problem.week_start + timedelta(days=d) for d in range(7)}
    seen: set[tuple] = set()
    found = []
    for s in plan.sessions:
        where = f"{s.room_id} {s.date} {s.period}"
        room = rooms.get(s.room_id)
        template = problem.templates.get(s.template_id)
        if room is None or template is None:
            found.append(f"{where}: unknown room or template {s.template_id}")
            continue
        if (s.room_id, s.date, s.period) in seen:
            found.append(f"{where}: two sessions in one room at once")
        seen.add((s.room_id, s.date, s.period))
        if s.date not in week or room.site_id != s.site_id:
            found.append(f"{where}: outside the week or at the wrong site")
        if template.modality is not room.modality:
            found.append(f"{where}: {template.template_id} is not a {room.modality} template")
        if not template.required_capabilities <= room.capabilities:
            found.append(f"{where}: room lacks capabilities for {template.template_id}")
        if s.period not in template.periods:
            found.append(f"{where}: {template.template_id} does not run in the {s.period}")
        hours = sites[room.site_id].hours_on(s.date.weekday())
        if not (hours.is_open and hours.opens <= s.period.start and hours.closes >= s.period.end):
            found.append(f"{where}: the site is not open for the whole session")
    return found


def _staff_violations(problem: DiaryProblem, plan: DiaryPlan) -> list[str]:
    groups = {g.staff_group_id: g for g in problem.network.staff_groups}
    calendar = StaffCalendar(groups.values(), problem.staff_availability)
    per_session: dict[tuple, int] = defaultdict(int)
    daytime: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    found = []
    for use in plan.staff_use:
        group = groups[use.staff_group_id]
        if not use.skills <= group.skills:
            found.append(f"{group.staff_group_id} rostered for {sorted(use.skills)} it lacks")
        per_session[(use.staff_group_id, use.date, use.period)] += use.people
        total[use.staff_group_id] += use.people
        if use.date.weekday() < 5 and use.period is not SessionPeriod.EVENING:
            daytime[use.staff_group_id] += use.people
    for (group_id, day, period), people in per_session.items():
        if people > calendar.available(group_id, day, period):
            found.append(f"{group_id} {day} {period}: {people} rostered, "
                         f"{calendar.available(group_id, day, period)} available")
    for group_id, people in total.items():
        contracted = groups[group_id].sessions_per_week
        if daytime[group_id] > contracted:
            found.append(f"{group_id}: {daytime[group_id]} weekday-daytime sessions, "
                         f"{contracted} contracted")
        if people > contracted + math.floor(contracted * problem.overtime_share + 1e-9):
            found.append(f"{group_id}: {people} sessions exceed contracted plus overtime")
    return found


def _cover_violations(problem: DiaryProblem, plan: DiaryPlan) -> list[str]:
    """Every room's crew and every radiologist-led room's radiologist share is covered by staff
    of the right role and skills at the same site and session."""
    needed: dict[tuple, float] = defaultdict(float)
    for s in plan.sessions:
        template = problem.templates[s.template_id]
        skills = frozenset({template.modality.value}
                           | {c.value for c in template.required_capabilities & CLINICAL})
        needed[(s.site_id, s.date, s.period, template.crew_role, skills)] += template.crew_per_room
        if template.radiologist_required:
            key = (s.site_id, s.date, s.period, StaffRole.RADIOLOGIST, skills)
            needed[key] += 1 / template.rooms_per_radiologist
    groups = {g.staff_group_id: g for g in problem.network.staff_groups}
    supplied: dict[tuple, int] = defaultdict(int)
    for use in plan.staff_use:
        group = groups[use.staff_group_id]
        supplied[(group.site_id, use.date, use.period, group.role, use.skills)] += use.people
    found = []
    for key, people in needed.items():
        if supplied.get(key, 0) < math.ceil(people - 1e-9):
            found.append(f"{key[0]} {key[1]} {key[2]}: {math.ceil(people - 1e-9)} {key[3]} "
                         f"with {sorted(key[4])} needed, {supplied.get(key, 0)} rostered")
    return found


def _allocation_violations(problem: DiaryProblem, plan: DiaryPlan) -> list[str]:
    capacity: dict[tuple, int] = defaultdict(int)
    for s in plan.sessions:
        for family, count in problem.templates[s.template_id].capacity:
            capacity[(s.site_id, family)] += count
    booked: dict[tuple, int] = defaultdict(int)
    found = []
    sites = problem.network.site_by_id
    for a in plan.allocations:
        booked[(a.site_id, a.family)] += a.count
        if a.distance_km > problem.travel_limit_km + 1e-9:
            found.append(f"{a.area_id} → {a.site_id}: {a.distance_km:.0f} km is over the limit")
        # the age rule written out again, not Site.admits: the solvers' demand cells use that
        limit = sites[a.site_id].age_limit_years
        if limit is not None and not (a.age_band is AgeBand.CHILD
                                      and limit >= CHILD_UNDER_YEARS):
            found.append(f"{a.area_id} → {a.site_id}: {a.age_band.value} patients booked at a "
                         f"site for patients under {limit}")
    for key, count in booked.items():
        if count > capacity.get(key, 0):
            found.append(f"{key[0]} {key[1]}: {count} exams booked into {capacity.get(key, 0)} "
                         "slots")
    return found
