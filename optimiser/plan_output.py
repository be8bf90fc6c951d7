"""Turning a solution over pooled room classes back into a diary of named rooms, staff rosters,
bookings per site and unmet demand: the plain DiaryPlan the rest of the system reads. Rooms keep
last week's template where the counts allow, so a diary changes no more than it must."""

from __future__ import annotations

import numpy as np

from optimiser.demand_cells import FAMILIES, PRIORITIES
from optimiser.evaluation import Solution, metrics
from optimiser.instance import Instance
from optimiser.problem import (
    PERIODS,
    Allocation,
    DiaryPlan,
    RoomSession,
    StaffUse,
    UnmetDemand,
)


def diary_plan(inst: Instance, solution: Solution, bound: float | None, bound_method: str,
               seconds_to_usable: float | None, seconds: float,
               log: tuple[str, ...] = (), errors: tuple[str, ...] = (),
               lp_bound: float | None = None) -> DiaryPlan:
    return DiaryPlan(
        method=solution.method, sessions=tuple(room_sessions(inst, solution.x)),
        staff_use=tuple(_staff_use(inst, solution.z)),
        allocations=tuple(_allocations(inst, solution.w)),
        unmet=tuple(_unmet(inst, solution.unmet)), metrics=metrics(inst, solution),
        bound=bound, bound_method=bound_method, seconds_to_usable=seconds_to_usable,
        seconds=seconds, diagnoses=tuple(inst.diagnoses), log=log, errors=errors,
        lp_bound=lp_bound,
    )


def room_sessions(inst: Instance, x: np.ndarray) -> list[RoomSession]:
    kept = _last_templates(inst)
    by_key: dict[int, list[int]] = {}
    for option in np.flatnonzero(x):
        by_key.setdefault(int(inst.option_class_time[option]), []).append(int(option))
    sessions = []
    for options in by_key.values():
        room_class = inst.classes[inst.option_class[options[0]]]
        t = int(inst.option_t[options[0]])
        day, period = inst.time_of(t)
        free = list(room_class.room_ids)
        wanted = {int(inst.option_template[o]): int(x[o]) for o in options}
        assigned: list[tuple[str, int]] = []
        for room in list(free):
            template = kept.get((room, t))
            if template is not None and wanted.get(template, 0) > 0:
                wanted[template] -= 1
                assigned.append((room, template))
                free.remove(room)
        # a room open last week on a template no longer wanted changes anyway: give it the
        # new sessions, so that rooms closed last week stay closed (one change, not two)
        free.sort(key=lambda room: (room, t) not in kept)
        for template, count in sorted(wanted.items()):
            for _ in range(count):
                assigned.append((free.pop(0), template))
        sessions += [RoomSession(room, room_class_site(inst, room_class), day, period,
                                 inst.templates[k].template_id) for room, k in assigned]
    return sorted(sessions, key=lambda s: (s.date, PERIODS.index(s.period), s.room_id))


def room_class_site(inst: Instance, room_class) -> str:
    return inst.sites[room_class.site].site_id


def _last_templates(inst: Instance) -> dict[tuple[str, int], int]:
    """(room, session) → the template it ran last week (-1: one unknown this week)."""
    index = {t.template_id: k for k, t in enumerate(inst.templates)}
    by_weekday = {day.weekday(): d for d, day in enumerate(inst.days)}
    result = {}
    for session in inst.problem.last_week:
        t = by_weekday[session.date.weekday()] * len(PERIODS) + PERIODS.index(session.period)
        result[(session.room_id, t)] = index.get(session.template_id, -1)
    return result


def _staff_use(inst: Instance, z: np.ndarray) -> list[StaffUse]:
    totals: dict[tuple[int, int, object], int] = {}
    for flow in np.flatnonzero(z):
        need = inst.needs[inst.flow_need[flow]]
        key = (int(inst.flow_group[flow]), need.t, need.modality, need.skills)
        totals[key] = totals.get(key, 0) + int(z[flow])
    result = []
    for (g, t, modality, skills), people in sorted(totals.items(), key=lambda kv: kv[0][:2]):
        day, period = inst.time_of(t)
        result.append(StaffUse(inst.groups[g].staff_group_id, day, period, modality, skills,
                               people))
    return result


def _allocations(inst: Instance, w: np.ndarray) -> list[Allocation]:
    cells = inst.demand
    return [Allocation(FAMILIES[cells.cell_family[cells.arc_cell[a]]],
                       cells.cell_area[cells.arc_cell[a]],
                       inst.sites[cells.arc_site[a]].site_id, int(w[a]), float(cells.arc_km[a]),
                       cells.cell_band[cells.arc_cell[a]])
            for a in np.flatnonzero(w)]


def _unmet(inst: Instance, unmet: np.ndarray) -> list[UnmetDemand]:
    cells = inst.demand
    return [UnmetDemand(FAMILIES[cells.cell_family[c]], cells.cell_area[c], PRIORITIES[q],
                        int(unmet[c, q]), cells.cell_band[c])
            for c, q in zip(*np.nonzero(unmet), strict=True)]
