"""Repairing a rounded plan where demand is still unmet: open more sessions, with staff still
free, on the templates whose families have unmet demand within reach of the site. Daytime
sessions first (they cost nothing); then an off-peak session only where the unmet exams it
would take are worth more than it costs in the objective (its evening or weekend pay and its
crew's overtime), each exam counted once across all the sites that could take it.
Off-peak sessions that end up idle are closed later (`pruning`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optimiser.allocation import best_allocation
from optimiser.demand_cells import PRIORITY_WEIGHTS
from optimiser.instance import Instance
from optimiser.staff_ledger import StaffLedger


def fill_shortfall(inst: Instance, ledger: StaffLedger) -> tuple[np.ndarray, np.ndarray]:
    """Open sessions for unmet demand; returns the final (w, unmet) allocation."""
    w, unmet = best_allocation(inst, ledger.x)
    reach = _unmet_within_reach(inst, unmet)
    if reach:
        for options in _option_groups(inst, offpeak=False):
            _fill_daytime_group(inst, ledger, options, reach)
        w, unmet = best_allocation(inst, ledger.x)
    if unmet.any():
        waiting = _WaitingExams(inst, unmet)
        for options in _option_groups(inst, offpeak=True):
            _fill_offpeak_group(inst, ledger, options, waiting)
        w, unmet = best_allocation(inst, ledger.x)
    return w, unmet


def _unmet_within_reach(inst: Instance, unmet: np.ndarray) -> dict[tuple[int, object], float]:
    cells = inst.demand
    per_cell = unmet.sum(axis=1)
    reach: dict[tuple[int, object], float] = {}
    for arc in np.flatnonzero(per_cell[cells.arc_cell] > 0):
        site, family = cells.site_families[cells.arc_sf[arc]]
        key = (int(site), family)
        reach[key] = reach.get(key, 0.0) + float(per_cell[cells.arc_cell[arc]])
    return reach


def _option_groups(inst: Instance, offpeak: bool) -> list[np.ndarray]:
    """Options per class × session, the sessions cheapest per slot first."""
    wanted = np.flatnonzero((inst.option_cost > 0) == offpeak)
    keys = inst.option_class_time[wanted]
    slots = np.array([t.total_slots for t in inst.templates], dtype=float)
    per_slot = inst.option_cost[wanted] / slots[inst.option_template[wanted]]
    order = np.lexsort((keys, per_slot))
    wanted, keys = wanted[order], keys[order]
    groups: dict[int, list[int]] = {}
    for option, key in zip(wanted, keys, strict=True):
        groups.setdefault(int(key), []).append(int(option))
    return [np.array(g) for g in groups.values()]


def _fill_daytime_group(inst: Instance, ledger: StaffLedger, options: np.ndarray,
                        reach: dict[tuple[int, object], float]) -> None:
    """Open rooms while a template still covers unmet demand within reach of the site."""
    site = inst.classes[inst.option_class[options[0]]].site

    def covered(option: int) -> float:
        template = inst.templates[inst.option_template[option]]
        return sum(min(c, reach.get((site, f), 0.0)) for f, c in template.capacity)

    def take(option: int) -> None:
        for family, count in inst.templates[inst.option_template[option]].capacity:
            reach[(site, family)] = max(0.0, reach.get((site, family), 0.0) - count)

    _open_while_worth_it(ledger, options, covered, take)


class _WaitingExams:
    """Unmet exams per demand cell and priority, each taken by at most one new session."""

    def __init__(self, inst: Instance, unmet: np.ndarray) -> None:
        cells = inst.demand
        self.inst = inst
        self.unmet = unmet.astype(float)
        self.sf_index = {key: i for i, key in enumerate(cells.site_families)}
        order = np.argsort(cells.arc_km, kind="stable")
        by_sf: dict[int, list[int]] = {}
        for arc in order:
            by_sf.setdefault(int(cells.arc_sf[arc]), []).append(int(cells.arc_cell[arc]))
        self.sf_cells = {sf: np.array(c, dtype=int) for sf, c in by_sf.items()}
        self.exam_value = PRIORITY_WEIGHTS * inst.weights.unmet_per_exam

    def value(self, option: int) -> float:
        """Points saved if the session's slots took the most urgent exams waiting in reach."""
        total = 0.0
        for cells, count in self._families(option):
            available = self.unmet[cells].sum(axis=0)
            taken = np.minimum(available, np.maximum(0.0, count - np.concatenate(
                [[0.0], np.cumsum(available)[:-1]])))
            total += float(taken @ self.exam_value)
        return total

    def take(self, option: int) -> None:
        """Book the session's slots to the most urgent exams in reach, nearest areas first."""
        for cells, count in self._families(option):
            left = float(count)
            for priority in range(self.unmet.shape[1]):
                column = self.unmet[cells, priority]
                before = np.concatenate([[0.0], np.cumsum(column)[:-1]])
                used = np.minimum(column, np.maximum(0.0, left - before))
                self.unmet[cells, priority] = column - used
                left -= float(used.sum())
                if left <= 0:
                    break

    def _families(self, option: int) -> list[tuple[np.ndarray, int]]:
        inst = self.inst
        site = inst.classes[inst.option_class[option]].site
        result = []
        for family, count in inst.templates[inst.option_template[option]].capacity:
            sf = self.sf_index.get((site, family))
            if sf is not None and sf in self.sf_cells:
                result.append((self.sf_cells[sf], count))
        return result


def _fill_offpeak_group(inst: Instance, ledger: StaffLedger, options: np.ndarray,
                        waiting: _WaitingExams) -> None:
    """Open rooms while the best template's exams are worth more than its pay and overtime."""
    overtime = inst.option_crew * inst.weights.overtime_per_staff_session

    def net_value(option: int) -> float:
        return waiting.value(option) - inst.option_cost[option] - overtime[option]

    _open_while_worth_it(ledger, options, net_value, waiting.take)


def _open_while_worth_it(ledger: StaffLedger, options: np.ndarray,
                         worth: Callable[[int], float], take: Callable[[int], None]) -> None:
    """Open the option worth most (above zero) while its class has rooms free, then `take`
    it; an option the staff ledger cannot crew is not tried again."""
    blocked: set[int] = set()
    while ledger.rooms_free(int(options[0])) > 0:
        best, value = -1, 0.0
        for option in map(int, options):
            if option in blocked:
                continue
            score = worth(option)
            if score > value:
                best, value = option, score
        if best < 0:
            return
        if not ledger.open(best):
            blocked.add(best)
            continue
        take(best)
