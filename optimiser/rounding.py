"""LP rounding: a good whole plan within seconds. Open the LP's whole rooms, then its fractional
ones in order of how nearly whole they are, then free daytime rooms staff can still run, each
only where a room and staff allow; finish with the best allocation of demand."""

from __future__ import annotations

import numpy as np

from optimiser.consolidation import place_radiologist_led
from optimiser.evaluation import Solution
from optimiser.instance import Instance
from optimiser.shortfall import fill_shortfall
from optimiser.staff_ledger import StaffLedger
from optimiser.staff_split import StaffSplit

ROUND_UP_FROM = 0.2
"""A fractional daytime room below this share of a session is left closed."""
ROUND_UP_OFFPEAK_FROM = 0.6
"""Off-peak sessions cost evening or weekend pay: round up only when the LP nearly opened one."""


def rounded_solution(instance: Instance, lp_x: np.ndarray,
                     split: StaffSplit | None = None) -> Solution:
    """With a staff split the plan keeps each modality within its share (a CP-SAT hint)."""
    ledger = StaffLedger(instance, allow_overtime=True, split=split)
    handled = place_radiologist_led(instance, ledger, lp_x)
    lp_x = np.where(handled, 0.0, lp_x)
    whole = np.floor(lp_x + 1e-6).astype(int)
    crew = instance.option_crew
    # the largest crews first: two-person CT/MR crews are hardest to find once staff are spread
    for option in np.lexsort((-whole, -crew)):
        for _ in range(whole[option]):
            if not ledger.open(int(option)):
                break
    fraction = lp_x - np.floor(lp_x + 1e-6)
    threshold = np.where(instance.option_cost > 0, ROUND_UP_OFFPEAK_FROM, ROUND_UP_FROM)
    for option in np.lexsort((-fraction, -crew)):
        if fraction[option] >= threshold[option]:
            ledger.open(int(option))
    _open_free_daytime(instance, ledger, lp_x)
    w, unmet = fill_shortfall(instance, ledger)
    return Solution("lp-rounding", ledger.x, ledger.z, w, unmet)


def _open_free_daytime(instance: Instance, ledger: StaffLedger, lp_x: np.ndarray) -> None:
    """Daytime sessions cost nothing: run any room staff can still cover, on the template the
    LP liked best for that room class."""
    preferred = _preferred_template(instance, lp_x)
    daytime = np.flatnonzero(~instance.time_offpeak[instance.option_t])
    for option in daytime:
        if instance.option_template[option] != preferred.get(int(instance.option_class[option])):
            continue
        while ledger.rooms_free(int(option)) > 0 and ledger.open(int(option)):
            pass


def _preferred_template(instance: Instance, lp_x: np.ndarray) -> dict[int, int]:
    score: dict[tuple[int, int], float] = {}
    for option, value in enumerate(lp_x):
        key = (int(instance.option_class[option]), int(instance.option_template[option]))
        score[key] = score.get(key, 0.0) + float(value) + 1e-9
    best: dict[int, tuple[float, int]] = {}
    for (room_class, template), value in score.items():
        if value > best.get(room_class, (-1.0, -1))[0]:
            best[room_class] = (value, template)
    return {room_class: template for room_class, (_, template) in best.items()}


def repaired_solution(instance: Instance, base: Solution) -> Solution:
    """A plan's sessions replayed (every rule rechecked), then its shortfall repaired and its
    demand re-allocated at best: a quick improvement on the greedy plan."""
    ledger = StaffLedger(instance, allow_overtime=True)
    for option in np.lexsort((-base.x, -instance.option_crew)):
        for _ in range(base.x[option]):
            if not ledger.open(int(option)):
                break
    w, unmet = fill_shortfall(instance, ledger)
    return Solution("greedy-repaired", ledger.x, ledger.z, w, unmet)
