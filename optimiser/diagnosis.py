"""Input the diary builder refuses before any solver runs, with messages naming the item and
field, and templates that can never run. A contradiction never reaches a solver as a traceback."""

from __future__ import annotations

import math

from optimiser.problem import Diagnosis, DiaryInputError, DiaryProblem


def check_input(problem: DiaryProblem) -> None:
    """Raise DiaryInputError listing every problem found; return quietly if there is none."""
    problems = (_demand_problems(problem) + _staff_problems(problem)
                + _template_problems(problem) + _network_problems(problem))
    if not math.isfinite(problem.travel_limit_km) or problem.travel_limit_km <= 0:
        problems.append(f"travel_limit_km: {problem.travel_limit_km} is not a positive distance")
    if problems:
        raise DiaryInputError("the diary cannot be built from this input:\n  "
                              + "\n  ".join(problems))


def unusable_templates(problem: DiaryProblem) -> list[Diagnosis]:
    """Templates no room in the network can run, so their capacity will never exist."""
    rooms = problem.network.rooms
    result = []
    for template in sorted(problem.templates.values(), key=lambda t: t.template_id):
        fitting = [r for r in rooms if r.modality is template.modality]
        if any(template.required_capabilities <= r.capabilities for r in fitting):
            continue
        missing = sorted(c.value for c in template.required_capabilities
                         if not any(c in r.capabilities for r in fitting))
        reason = (f"template {template.template_id} needs "
                  f"{', '.join(missing) or 'a ' + template.modality.value + ' room'}, which no "
                  f"{template.modality.value} room has; it is never scheduled")
        result.append(Diagnosis(None, None, 0, reason))
    return result


def _demand_problems(problem: DiaryProblem) -> list[str]:
    areas = problem.network.area_by_id
    problems = []
    for number, row in enumerate(problem.demand, start=1):
        if row.area_id not in areas:
            problems.append(f"demand row {number}, area_id: no demand area '{row.area_id}'")
        if not math.isfinite(row.expected_count) or row.expected_count < 0:
            problems.append(f"demand row {number}, expected_count: {row.expected_count} is not "
                            "a count of exams (must be zero or more)")
    return problems


def _staff_problems(problem: DiaryProblem) -> list[str]:
    problems = []
    groups = {g.staff_group_id: g for g in problem.network.staff_groups}
    sites = problem.network.site_by_id
    for group in problem.network.staff_groups:
        name = f"staff group {group.staff_group_id}"
        if group.site_id not in sites:
            problems.append(f"{name}, site_id: no site '{group.site_id}'")
        for field in ("headcount", "sessions_per_week"):
            if getattr(group, field) < 0:
                problems.append(f"{name}, {field}: {getattr(group, field)} is negative")
    for row in problem.staff_availability:
        name = f"staff availability {row.staff_group_id} on {row.date}"
        if row.staff_group_id not in groups:
            problems.append(f"{name}, staff_group_id: no such staff group")
        for field in ("rostered", "on_leave"):
            if getattr(row, field) < 0:
                problems.append(f"{name}, {field}: {getattr(row, field)} is negative")
        if row.on_leave > row.rostered >= 0:
            problems.append(f"{name}, on_leave: {row.on_leave} away but only {row.rostered} "
                            "rostered")
    return problems


def _template_problems(problem: DiaryProblem) -> list[str]:
    problems = []
    for key, template in problem.templates.items():
        name = f"template {key}"
        if template.crew_per_room < 1:
            problems.append(f"{name}, crew_per_room: {template.crew_per_room} (a room needs "
                            "at least one member of crew)")
        if template.radiologist_required and template.rooms_per_radiologist < 1:
            problems.append(f"{name}, rooms_per_radiologist: {template.rooms_per_radiologist} "
                            "(a radiologist-led template must cover at least one room)")
        if any(count < 0 for _, count in template.capacity):
            problems.append(f"{name}, capacity: a negative number of exams")
        if not template.periods:
            problems.append(f"{name}, periods: none given")
    return problems


def _network_problems(problem: DiaryProblem) -> list[str]:
    sites = problem.network.site_by_id
    return [f"room {room.room_id}, site_id: no site '{room.site_id}'"
            for room in problem.network.rooms if room.site_id not in sites]
