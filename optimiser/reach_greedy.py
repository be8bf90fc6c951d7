"""The stronger baseline ("reach greedy"): what a careful planner with the whole network's
demand in view does by hand, the yardstick beside the site-by-site greedy.

1. Every site plans for all demand within the travel limit, not only the areas whose nearest
   site it is; an exam one site plans for is taken from the pool every other site sees, the
   areas nearest that site first, so no exam is planned twice.
2. Scarce modalities first (MR, CT, then US, XR). Weekday daytime sessions, session by
   session across every site: first each site for its own areas (those whose nearest site
   within reach it is), then for whatever is left in its reach; each room on the template
   covering most of that demand, and only rooms that cover some.
3. Then off-peak sessions, cheapest first (weekend days, weekday evenings, weekend evenings),
   each only where the demand in reach would at least half fill it.
4. Patients are booked by a min-cost flow (least priority-weighted unmet demand, then travel);
   off-peak sessions nobody is booked into are closed.
"""

from __future__ import annotations

import numpy as np

from domain.vocabulary import Modality, SessionPeriod
from optimiser.allocation import best_allocation
from optimiser.evaluation import Solution
from optimiser.greedy import MODALITY_ORDER, OFFPEAK_MIN_FILL
from optimiser.instance import Instance
from optimiser.pruning import close_idle_offpeak
from optimiser.staff_ledger import StaffLedger


def reach_greedy_solution(instance: Instance) -> Solution:
    ledger = StaffLedger(instance, allow_overtime=True)
    pool = _DemandInReach(instance)
    by_time = _options_by_time(instance)
    daytime = [t for t in range(instance.n_times) if not instance.time_offpeak[t]]
    offpeak = sorted((t for t in range(instance.n_times) if instance.time_offpeak[t]),
                     key=lambda t: (_offpeak_rank(instance, t), t))
    passes = ((daytime, True, 0.0), (daytime, False, 0.0), (offpeak, False, OFFPEAK_MIN_FILL))
    for modality in MODALITY_ORDER:
        for times, local, min_fill in passes:
            pool.set_local_only(local)
            for t in times:
                for options in by_time.get((t, modality), {}).values():
                    _fill(instance, ledger, options, pool, min_fill)
    w, unmet = best_allocation(instance, ledger.x)
    return close_idle_offpeak(instance, Solution("reach-greedy", ledger.x, ledger.z, w, unmet))


class _DemandInReach:
    """Exams per demand cell not yet planned for, and per site × family the cells within the
    travel limit, nearest first (all of them, or only those whose nearest site it is)."""

    def __init__(self, instance: Instance) -> None:
        cells = instance.demand
        self.left = cells.totals.astype(float).copy()
        self.local_only = False
        nearest_site = np.full(len(cells.cell_area), -1)
        for arc in np.argsort(cells.arc_km, kind="stable")[::-1]:
            nearest_site[cells.arc_cell[arc]] = cells.arc_site[arc]
        by_sf: dict[int, list[int]] = {}
        for arc in np.argsort(cells.arc_km, kind="stable"):
            by_sf.setdefault(int(cells.arc_sf[arc]), []).append(int(cells.arc_cell[arc]))
        self.reach = {sf: np.array(c, dtype=int) for sf, c in by_sf.items()}
        self.local = {sf: c[nearest_site[c] == cells.site_families[sf][0]]
                      for sf, c in self.reach.items()}
        sf_index = {key: i for i, key in enumerate(cells.site_families)}
        self.option_families = [
            [(sf_index[(int(instance.classes[c].site), family)], count)
             for family, count in instance.templates[k].capacity
             if sf_index.get((int(instance.classes[c].site), family)) in self.reach]
            for c, k in zip(instance.option_class, instance.option_template, strict=True)]
        self._waiting: dict[int, float] = {}

    def covered(self, option: int) -> float:
        """Exams the session would take from the demand still in reach of its site."""
        return sum(min(count, self._in_reach(sf)) for sf, count in self.option_families[option])

    def take(self, option: int) -> None:
        """Plan the session's slots for the nearest areas' exams still in reach."""
        for sf, count in self.option_families[option]:
            cells = self._cells(sf)
            column = self.left[cells]
            before = np.concatenate([[0.0], np.cumsum(column)[:-1]])
            self.left[cells] = column - np.minimum(column, np.maximum(0.0, count - before))
        self._waiting.clear()

    def set_local_only(self, local: bool) -> None:
        self.local_only = local
        self._waiting.clear()

    def _in_reach(self, sf: int) -> float:
        if sf not in self._waiting:
            self._waiting[sf] = float(self.left[self._cells(sf)].sum())
        return self._waiting[sf]

    def _cells(self, sf: int) -> np.ndarray:
        return self.local[sf] if self.local_only else self.reach[sf]


def _fill(instance: Instance, ledger: StaffLedger, options: list[int], pool: _DemandInReach,
          min_fill: float) -> None:
    """Open rooms on the template covering most demand in reach while one covers any (at
    least `min_fill` of its slots) and staff allow."""
    blocked: set[int] = set()
    while True:
        candidates = [o for o in options if o not in blocked and ledger.rooms_free(o) > 0]
        if not candidates:
            return
        best, covered = max(((o, pool.covered(o)) for o in candidates), key=lambda c: c[1])
        slots = instance.templates[instance.option_template[best]].total_slots
        if covered <= 0 or covered < min_fill * slots:
            return
        if not ledger.open(best):
            blocked.add(best)
            continue
        pool.take(best)


def _options_by_time(instance: Instance) -> dict[tuple[int, Modality], dict[int, list[int]]]:
    """(session, modality) → site → its options then."""
    result: dict[tuple[int, Modality], dict[int, list[int]]] = {}
    for option in range(len(instance.option_class)):
        site = instance.classes[instance.option_class[option]].site
        modality = instance.templates[instance.option_template[option]].modality
        key = (int(instance.option_t[option]), modality)
        result.setdefault(key, {}).setdefault(site, []).append(option)
    return result


def _offpeak_rank(instance: Instance, t: int) -> int:
    """Weekend days first, then weekday evenings, then weekend evenings."""
    day, period = instance.time_of(t)
    evening = period is SessionPeriod.EVENING
    return int(evening) + int(evening and day.weekday() >= 5)
