"""Rounding radiologist-led sessions so that each radiologist covers as many rooms as the
template allows. The LP spreads these rooms thinly (a third of a room here and there, each with a
third of a radiologist); whole radiologists make that expensive. So the LP's weekly number of
such rooms per room class and template is kept, but placed together: the sessions the LP used
most get up to one radiologist's worth of rooms each, pass after pass. Daytime and off-peak
rooms are counted apart: rooms the LP ran in free daytime sessions must not spill into evening
or weekend sessions, which cost overtime pay."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from optimiser.instance import Instance
from optimiser.staff_ledger import StaffLedger

MAX_PASSES = 4


def place_radiologist_led(inst: Instance, ledger: StaffLedger, lp_x: np.ndarray) -> np.ndarray:
    """Open the LP's radiologist-led rooms in full sessions; returns which options were
    handled (the caller rounds the others)."""
    led = np.flatnonzero(inst.option_rad_need >= 0)
    target: dict[tuple[int, int, bool], int] = defaultdict(float)
    for option in led:
        target[_kind(inst, option)] += lp_x[option]
    target = {key: int(np.floor(value + 1e-6)) for key, value in target.items()}
    kinds: dict[tuple, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for option in led:
        need = inst.needs[inst.option_rad_need[option]]
        kinds[(need.site, need.skills, need.modality)][need.t].append(int(option))
    for sessions in kinds.values():
        order = sorted(sessions, key=lambda t: -sum(lp_x[o] for o in sessions[t]))
        for _ in range(MAX_PASSES):
            opened = sum(_one_radiologist(inst, ledger, sessions[t], target) for t in order)
            if not opened:
                break
    handled = np.zeros(len(lp_x), dtype=bool)
    handled[led] = True
    return handled


def _one_radiologist(inst: Instance, ledger: StaffLedger, options: list[int],
                     target: dict[tuple[int, int, bool], int]) -> int:
    """Open up to one radiologist's worth of rooms in a session; returns rooms opened."""
    covers = min(round(1 / inst.option_rad_share[o]) for o in options)
    opened = 0
    blocked: set[int] = set()
    while opened < covers:
        candidates = [o for o in options if o not in blocked and target[_kind(inst, o)] > 0]
        if not candidates:
            break
        best = max(candidates, key=lambda o: target[_kind(inst, o)])
        if not ledger.open(best):
            blocked.add(best)
            continue
        target[_kind(inst, best)] -= 1
        opened += 1
    return opened


def _kind(inst: Instance, option: int) -> tuple[int, int, bool]:
    """Room class, template, and whether the session is off-peak."""
    return (int(inst.option_class[option]), int(inst.option_template[option]),
            bool(inst.time_offpeak[inst.option_t[option]]))
