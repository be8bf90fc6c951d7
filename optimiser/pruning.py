"""Closing off-peak sessions nobody is booked into: after allocation, a session whose every slot
is spare capacity at its site costs evening or weekend pay for nothing. Staff freed are released
(overtime first), so the plan stays exactly as feasible and only gets cheaper."""

from __future__ import annotations

import math

import numpy as np

from optimiser.evaluation import Solution, site_family_capacity, staff_use_per_group
from optimiser.instance import Instance


def close_idle_offpeak(inst: Instance, solution: Solution) -> Solution:
    cells = inst.demand
    spare = site_family_capacity(inst, solution.x)
    np.subtract.at(spare, cells.arc_sf, solution.w)
    sf_index = {key: i for i, key in enumerate(cells.site_families)}
    x = solution.x.copy()
    for option in sorted(np.flatnonzero((x > 0) & (inst.option_cost > 0)),
                         key=lambda o: -inst.option_cost[o]):
        site = inst.classes[inst.option_class[option]].site
        capacity = [(sf_index[(site, family)], count)
                    for family, count in inst.templates[inst.option_template[option]].capacity]
        while x[option] > 0 and all(spare[sf] >= count for sf, count in capacity):
            x[option] -= 1
            for sf, count in capacity:
                spare[sf] -= count
    z = _release_staff(inst, x, solution.z.copy())
    return Solution(solution.method, x, z, solution.w.copy(), solution.unmet.copy())


def _release_staff(inst: Instance, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Trim each need's people to what its open rooms require, overtime workers first."""
    required = np.zeros(len(inst.needs))
    np.add.at(required, inst.option_crew_need, x * inst.option_crew)
    rad = inst.option_rad_need >= 0
    np.add.at(required, inst.option_rad_need[rad], x[rad] * inst.option_rad_share[rad])
    total, _ = staff_use_per_group(inst, z)
    overtime = total - inst.group_contracted
    have = np.bincount(inst.flow_need, weights=z, minlength=len(inst.needs))
    for need in np.flatnonzero(have > np.ceil(required - 1e-9)):
        surplus = int(have[need] - math.ceil(required[need] - 1e-9))
        flows = np.flatnonzero(inst.flow_need == need)
        for flow in sorted(flows, key=lambda f: -overtime[inst.flow_group[f]]):
            give_back = min(surplus, int(z[flow]))
            z[flow] -= give_back
            overtime[inst.flow_group[flow]] -= give_back
            surplus -= give_back
            if surplus == 0:
                break
    return z



