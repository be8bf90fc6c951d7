"""Repairing a rounded plan where demand is still unmet: open more sessions, with staff still
free, on the templates whose families have unmet demand within reach of the site; daytime
first (free), then off-peak only where the unmet demand would at least half fill a session.
Off-peak sessions that end up idle are closed later (`pruning`)."""

from __future__ import annotations

import numpy as np

from optimiser.allocation import best_allocation
from optimiser.instance import Instance
from optimiser.staff_ledger import StaffLedger

OFFPEAK_MIN_FILL = 0.5


def fill_shortfall(inst: Instance, ledger: StaffLedger) -> tuple[np.ndarray, np.ndarray]:
    """Open sessions for unmet demand; returns the final (w, unmet) allocation."""
    w, unmet = best_allocation(inst, ledger.x)
    for offpeak in (False, True):
        reach = _unmet_within_reach(inst, unmet)
        if not reach:
            break
        groups = _option_groups(inst, offpeak)
        for options in groups:
            _fill_group(inst, ledger, options, reach, offpeak)
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
    """Options per class × session, cheapest sessions first."""
    wanted = np.flatnonzero((inst.option_cost > 0) == offpeak)
    keys = inst.option_class_time[wanted]
    order = np.lexsort((keys, inst.option_cost[wanted]))
    wanted, keys = wanted[order], keys[order]
    groups: dict[int, list[int]] = {}
    for option, key in zip(wanted, keys, strict=True):
        groups.setdefault(int(key), []).append(int(option))
    return [np.array(g) for g in groups.values()]


def _fill_group(inst, ledger, options, reach, offpeak: bool) -> None:
    site = inst.classes[inst.option_class[options[0]]].site
    blocked: set[int] = set()
    while ledger.rooms_free(int(options[0])) > 0:
        best, value = -1, 0.0
        for option in options:
            if option in blocked:
                continue
            template = inst.templates[inst.option_template[option]]
            covered = sum(min(c, reach.get((site, f), 0.0)) for f, c in template.capacity)
            enough = not offpeak or covered >= OFFPEAK_MIN_FILL * template.total_slots
            if enough and covered > value:
                best, value = int(option), covered
        if best < 0:
            return
        if not ledger.open(best):
            blocked.add(best)
            continue
        for family, count in inst.templates[inst.option_template[best]].capacity:
            reach[(site, family)] = max(0.0, reach.get((site, family), 0.0) - count)
