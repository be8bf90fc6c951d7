"""RINS, the relaxation induced neighbourhood search (Danna, Rothberg and Le Pape, 2005), on
the network model: every room and staff column on which the plan and the LP agree is fixed,
the columns on which they differ and all bookings are left free, and HiGHS solves what is left
from the plan.

Why: site neighbourhoods cannot move demand between sites, and settle about 4 % above our
bound. The columns where the site-polished plan and the LP disagree are spread over the whole
network (about 5,700 of 31,000 on the benchmark week), so this neighbourhood moves demand and
sessions between sites at once; measured on the benchmark week (seed 1), from the site search's
plan at 12.41 M, HiGHS found 12.01 M in 15 s on one core."""

from __future__ import annotations

import time

import numpy as np

from optimiser.evaluation import Solution
from optimiser.highs_mip import MipArrays, solve_mip
from optimiser.instance import Instance
from optimiser.model_points import plan_point, point_plan
from optimiser.relaxation import NetworkModel, Relaxation

AGREE = 1e-6
HEURISTIC_EFFORT = 0.3
"""HiGHS's share of effort for primal heuristics (default 0.05): sub-MIPs earlier."""


def rins_neighbourhood(model: NetworkModel, relaxation: Relaxation, plan_at: np.ndarray,
                       bookings_whole: bool = False) -> MipArrays:
    """The network model with the room and staff columns on which `plan_at` (a model point)
    and the LP agree fixed at their value (and, if asked, bookings whole too)."""
    lay = model.layout
    lp = np.concatenate([relaxation.x, relaxation.z])
    agree = lay.x + np.flatnonzero(np.abs(plan_at[lay.x:lay.o] - lp) <= AGREE)
    lower, upper = model.lower.copy(), model.upper.copy()
    lower[agree] = upper[agree] = plan_at[agree]
    integer = model.integer.copy()
    integer[lay.w:lay.big_w] |= bookings_whole
    return MipArrays.of(model.cost, lower, upper, model.matrix, model.row_lower,
                        model.row_upper, integer, model.constant)


def rins(inst: Instance, model: NetworkModel, relaxation: Relaxation, plan: Solution,
         deadline: float) -> Solution:
    """The best plan HiGHS finds by `deadline` (a perf_counter time) in the plan's RINS
    neighbourhood, started from the plan (so at worst the plan itself); solved again with
    whole bookings when the first answer's are not."""
    start = plan_point(inst, model, plan)
    for bookings_whole in (False, True):
        answer = solve_mip(rins_neighbourhood(model, relaxation, start, bookings_whole), start,
                           deadline - time.perf_counter(), threads=1,
                           mip_detect_symmetry=False, mip_heuristic_effort=HEURISTIC_EFFORT)
        found = None if answer.point is None else point_plan(inst, model, answer.point, "rins")
        if found is not None:
            return found
    return plan
