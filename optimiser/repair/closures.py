"""When a site is short of staff, which lists stop: at each site-session the plan can no longer
staff, the fewest booked patients displaced (then the fewest lists closed), so that the lists
left can be staffed again. Small exact CP-SAT models, one per site-session; if one cannot be
solved in time, lists close emptiest first until the rest can be staffed."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from optimiser.repair.diary import Diary, SessionKey
from optimiser.repair.disruption import Effects
from optimiser.repair.staff_rows import add_staff_rows
from optimiser.repair.staffing import SiteSession, StaffPicture, people_needed, shortfall

CLOSURE_LIMIT_S = 1.0


@dataclass(frozen=True)
class Closures:
    closed: dict[SessionKey, str]
    """Lists the repair closes for want of staff, and why."""
    allowed_short: dict[SiteSession, int]
    """People each site-session was already short by before the disruption."""


def running_lists(diary: Diary, effects: Effects) -> dict[SiteSession, list[SessionKey]]:
    """Lists that still run after the disruption, by site-session."""
    result: dict[SiteSession, list[SessionKey]] = defaultdict(list)
    for key in list(diary.plan) + list(effects.added):
        if key not in effects.removed:
            room_id, day, period = key
            result[(diary.site_of(room_id), day, period)].append(key)
    return result


def template_id_of(diary: Diary, effects: Effects, key: SessionKey) -> str:
    return effects.added[key][0] if key in effects.added else diary.plan[key]


def allowed_short(diary: Diary, effects: Effects, staff: StaffPicture,
                  where: SiteSession) -> int:
    """People the original plan, with any lists a manager added, was short by at a
    site-session before the disruption (an added list is taken as staffed by whoever added
    it: the repair does not close it, nor hold it against the site)."""
    templates = [diary.templates[diary.plan[key]] for key in diary.lists_at.get(where, [])]
    templates += [diary.templates[t] for (room, day, period), (t, _) in effects.added.items()
                  if (diary.site_of(room), day, period) == where]
    return shortfall(people_needed(templates), staff.groups(where[0]),
                     staff.available(where, after=False))


def choose_closures(diary: Diary, effects: Effects, staff: StaffPicture, deadline: float,
                    future_bookings: dict[SessionKey, int]) -> Closures:
    short_sites = {(site, day) for site, _, day in effects.staff_short}
    closed: dict[SessionKey, str] = {}
    allowed: dict[SiteSession, int] = {}
    for where, keys in sorted(running_lists(diary, effects).items()):
        if (where[0], where[1]) not in short_sites:
            continue
        allowed[where] = allowed_short(diary, effects, staff, where)
        templates = [diary.templates[template_id_of(diary, effects, k)] for k in keys]
        available = staff.available(where)
        groups = staff.groups(where[0])
        if shortfall(people_needed(templates), groups, available) <= allowed[where]:
            continue
        reason = _staff_reason(effects, where)
        counts = [future_bookings.get(k, 0) for k in keys]
        keep = _solve(keys, templates, counts, groups, available, allowed[where], deadline)
        if keep is None:
            keep = _emptiest_first(keys, templates, counts, groups, available, allowed[where])
        closed.update({k: reason for k, kept in zip(keys, keep, strict=True) if not kept})
    return Closures(closed, allowed)


def _staff_reason(effects: Effects, where: SiteSession) -> str:
    reasons = [reason for (site, _, day), (_, reason) in effects.staff_short.items()
               if site == where[0] and day == where[1]]
    return "closed for want of staff: " + "; ".join(sorted(set(reasons)))


def _solve(keys, templates, counts, groups, available, allowed, deadline) -> list[bool] | None:
    model = cp_model.CpModel()
    keep = [model.new_bool_var(f"keep{i}") for i in range(len(keys))]
    rows = add_staff_rows(model, groups, available, allowed, [],
                          list(zip(keep, templates, strict=True)), "s")
    # the old plan, now infeasible, as a complete hint for CP-SAT to repair
    hint = {k.index: 1 for k in keep} | rows.hint(lambda var: 1)
    for index, value in hint.items():
        model.add_hint(model.get_int_var_from_proto_index(index), value)
    # displaced patients first, then lists closed: a patient outweighs every list
    weight = len(keys) + 1
    model.minimize(sum((weight * c + 1) * (1 - k) for k, c in zip(keep, counts, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, min(CLOSURE_LIMIT_S,
                                                          deadline - time.perf_counter()))
    solver.parameters.num_workers = 1
    solver.parameters.repair_hint = True
    solver.parameters.symmetry_level = 0
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [bool(solver.value(k)) for k in keep]


def _emptiest_first(keys, templates, counts, groups, available, allowed) -> list[bool]:
    keep = [True] * len(keys)
    for i in sorted(range(len(keys)), key=lambda i: (counts[i], keys[i])):
        running = [t for t, kept in zip(templates, keep, strict=True) if kept]
        if shortfall(people_needed(running), groups, available) <= allowed:
            break
        keep[i] = False
    return keep
