"""The greedy baseline: what a careful manual planner does, site by site. It is the yardstick
the optimiser is measured against and the plan returned when every solver stage fails.

1. Each area's demand is expected at its nearest site able to do the exam (within the limit).
2. Scarce modalities first (MR, CT, then US, XR), each site runs every weekday daytime room it
   can staff, choosing for each room the template that covers most of the local demand still
   uncovered (first fit).
3. Where local demand is still uncovered, it adds off-peak sessions, cheapest first (weekend
   days, then weekday evenings, then weekend evenings), each only if it would be at least half
   full, with staff overtime where the rota allows.
4. Patients are then booked most urgent first at the nearest site with room left.
"""

from __future__ import annotations

import numpy as np

from domain.vocabulary import Modality, SessionPeriod
from optimiser.demand_cells import FAMILIES
from optimiser.evaluation import Solution, site_family_capacity
from optimiser.instance import Instance
from optimiser.staff_ledger import StaffLedger

MODALITY_ORDER = (Modality.MR, Modality.CT, Modality.US, Modality.XR)
OFFPEAK_MIN_FILL = 0.5


def greedy_solution(instance: Instance) -> Solution:
    ledger = StaffLedger(instance, allow_overtime=True)
    remaining = _local_demand(instance)
    local_total = remaining.copy()
    by_site_time = _options_by_site_time(instance)
    daytime = [t for t in range(instance.n_times) if not instance.time_offpeak[t]]
    offpeak = sorted((t for t in range(instance.n_times) if instance.time_offpeak[t]),
                     key=lambda t: (_time_rank(instance, t), t))
    for modality in MODALITY_ORDER:
        for site in range(len(instance.sites)):
            for t in daytime:
                _fill(instance, ledger, by_site_time.get((site, t, modality), []), remaining,
                      local_total, min_fill=0.0)
            for t in offpeak:
                _fill(instance, ledger, by_site_time.get((site, t, modality), []), remaining,
                      local_total, min_fill=OFFPEAK_MIN_FILL)
    w, unmet = nearest_site_allocation(instance, ledger.x)
    return Solution("greedy", ledger.x, ledger.z, w, unmet)


def nearest_site_allocation(instance: Instance, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Book each priority in turn (most urgent first) at the nearest site with capacity left."""
    cells = instance.demand
    capacity = site_family_capacity(instance, x)
    w = np.zeros(len(cells.arc_cell), dtype=int)
    unmet = cells.counts.copy()
    arcs_of_cell = _arcs_by_cell(instance)
    for priority in range(cells.counts.shape[1]):
        for cell in range(len(cells.cell_area)):
            for arc in arcs_of_cell.get(cell, []):
                if unmet[cell, priority] == 0:
                    break
                sf = cells.arc_sf[arc]
                take = int(min(unmet[cell, priority], capacity[sf]))
                if take > 0:
                    w[arc] += take
                    capacity[sf] -= take
                    unmet[cell, priority] -= take
    return w, unmet


def _fill(instance, ledger, options, remaining, local_total, min_fill: float) -> None:
    """Open rooms on the best-covering template until none is worth opening or staff run out."""
    blocked: set[int] = set()
    while True:
        candidates = [o for o in options if o not in blocked and ledger.rooms_free(o) > 0]
        if not candidates:
            return
        best, covered = max(((o, _covered(instance, o, remaining)) for o in candidates),
                            key=lambda item: (item[1], _covered(instance, item[0], local_total)))
        slots = instance.templates[instance.option_template[best]].total_slots
        if covered < min_fill * slots or (min_fill > 0 and covered == 0):
            return
        if not ledger.open(best):
            blocked.add(best)
            continue
        site = instance.classes[instance.option_class[best]].site
        for family, count in instance.templates[instance.option_template[best]].capacity:
            key = (site, FAMILIES.index(family))
            remaining[key] = max(0.0, remaining.get(key, 0.0) - count)


def _covered(instance, option: int, demand: dict) -> float:
    site = instance.classes[instance.option_class[option]].site
    return sum(min(count, demand.get((site, FAMILIES.index(family)), 0.0))
               for family, count in instance.templates[instance.option_template[option]].capacity)


def _local_demand(instance: Instance) -> dict[tuple[int, int], float]:
    """(site, family) → exams from areas whose nearest reachable capable site it is."""
    cells = instance.demand
    local: dict[tuple[int, int], float] = {}
    for cell, arcs in _arcs_by_cell(instance).items():
        if arcs:
            key = (int(cells.arc_site[arcs[0]]), int(cells.cell_family[cell]))
            local[key] = local.get(key, 0.0) + float(cells.counts[cell].sum())
    return local


def _arcs_by_cell(instance: Instance) -> dict[int, list[int]]:
    cells = instance.demand
    result: dict[int, list[int]] = {}
    for arc in np.argsort(cells.arc_km, kind="stable"):
        result.setdefault(int(cells.arc_cell[arc]), []).append(int(arc))
    return result


def _options_by_site_time(instance: Instance) -> dict[tuple[int, int, Modality], list[int]]:
    result: dict[tuple[int, int, Modality], list[int]] = {}
    for option in range(len(instance.option_class)):
        site = instance.classes[instance.option_class[option]].site
        modality = instance.templates[instance.option_template[option]].modality
        result.setdefault((site, int(instance.option_t[option]), modality), []).append(option)
    return result


def _time_rank(instance: Instance, t: int) -> int:
    """Weekend days first, then weekday evenings, then weekend evenings."""
    day, period = instance.time_of(t)
    evening = period is SessionPeriod.EVENING
    return int(evening) + int(evening and day.weekday() >= 5)
