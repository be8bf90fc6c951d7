"""`build_diary`: the staged diary build, under one wall-clock deadline.

greedy (the fallback, kept from the start) → reach greedy (the stronger baseline: a usable
plan in about 2 s) → joint LP (our bound, and the staff shares between modalities) → LP
roundings that keep radiologist-led rooms together → site neighbourhoods solved as exact MIPs
on the network model (HiGHS, the rest of the plan fixed) → RINS around the plan they reached
(the columns where it and the LP differ, over the whole network) → site neighbourhoods again →
CP-SAT on exact sub-models with the rest of the plan fixed: site neighbourhoods, then one model
per modality, each with a complete hint. Beside everything after the LP, when there is time
for it, HiGHS works on the whole network model in a process of its own (`network_mip`); each
plan it improves on joins the site neighbourhoods' search, and its proven bound replaces the
LP's when tighter. The best plan seen that passes the independent plan check (`plan_check`,
run after each stage) is returned; a stage that fails or runs out of time is logged and
skipped, never fatal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optimiser.evaluation import Solution, metrics
from optimiser.greedy import greedy_solution
from optimiser.instance import Instance, compile_instance
from optimiser.model_points import plan_point, point_plan
from optimiser.network_mip import MIN_SECONDS, NetworkMip
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.problem import BOUND_TOLERANCE, DiaryPlan, DiaryProblem
from optimiser.pruning import close_idle_offpeak
from optimiser.reach_greedy import reach_greedy_solution
from optimiser.relaxation import (
    BOUND_METHOD,
    NetworkModel,
    Relaxation,
    network_model,
    solve_relaxation,
)
from optimiser.rins import rins
from optimiser.rounding import rounded_solution
from optimiser.search import modality_polish, site_search
from optimiser.site_mip import site_mip_search
from optimiser.staff_split import split_staff, weekly_only

LP_SHARE = 0.8
"""At most this share of the time left goes on the LP (our bound); the rest is for CP-SAT."""
SITES_BEFORE_RINS = 0.4
"""Share of the time left after the LP roundings for site neighbourhoods before RINS: RINS
frees the columns where the plan and the LP differ, so it gains most from a polished plan."""
RINS_SHARE = 0.35
"""At most this share of that time for RINS (15 s found 12.01 M from 12.41 M on the benchmark
week); the rest goes back to site neighbourhoods and CP-SAT."""
RINS_MIN_S = 5.0
"""With less time than this for it, HiGHS barely gets past presolving the RINS model: skipped."""
NETWORK_BOUND_METHOD = ("HiGHS branch-and-cut dual bound on the whole network model (its LP "
                        "with our cuts and HiGHS's own)")


@dataclass
class _Progress:
    """The best plan offered so far, and the best one the independent plan check passed: a
    plan is only returned once `check_plan` finds nothing wrong with it."""

    inst: Instance
    started: float
    greedy_objective: float
    best: Solution
    best_objective: float
    verified: Solution
    verified_objective: float
    usable_at: float | None = None
    best_at: float = 0.0
    log: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def offer(self, inst: Instance, solution: Solution) -> Solution:
        """Record a plan (idle off-peak sessions closed first) and return it as kept."""
        solution = close_idle_offpeak(inst, solution)
        objective = metrics(inst, solution).objective
        now = time.perf_counter() - self.started
        self.log.append(f"{now:6.2f}s {solution.method}: objective {objective:,.0f}")
        if objective < self.best_objective - 1e-6:
            self.best, self.best_objective, self.best_at = solution, objective, now
        return solution

    def offer_for(self, inst: Instance):
        """`offer` as the searches take it: a plan in, the plan as kept out."""
        return lambda solution: self.offer(inst, solution)

    def checkpoint(self) -> None:
        """Check the best plan with the independent plan check (once per plan); one that
        breaks a rule is dropped for the last plan that passed, and the fault recorded."""
        if self.best is self.verified:
            return
        plan = diary_plan(self.inst, self.best, None, "", None, 0.0)
        violations = check_plan(self.inst.problem, plan)
        if violations:
            self.errors.append(f"the {self.best.method} plan (objective "
                               f"{self.best_objective:,.0f}) broke {len(violations)} rule(s) and "
                               f"was dropped; first: {violations[0]}")
            self.log.append(self.errors[-1])
            self.best, self.best_objective = self.verified, self.verified_objective
            return
        self.verified, self.verified_objective = self.best, self.best_objective
        if self.usable_at is None and self.best_objective < self.greedy_objective - 1e-6:
            self.usable_at = self.best_at


def build_diary(problem: DiaryProblem, time_limit_s: float = 60.0, seed: int = 0,
                workers: int = 2, network_mip: bool | None = None) -> DiaryPlan:
    """The best diary found within `time_limit_s` (plus the fixed cost of the greedy plan and
    of checking the plan returned). Raises DiaryInputError for input that cannot be planned;
    otherwise always returns a plan that passes `check_plan` (at worst every room closed).
    `network_mip`: run HiGHS on the whole network beside the rest (None: when there are at
    least `network_mip.MIN_SECONDS` left for it and a second worker)."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    inst = compile_instance(problem)
    closed = closed_solution(inst)
    greedy = greedy_solution(inst)
    greedy_objective = metrics(inst, greedy).objective
    progress = _Progress(inst, started, greedy_objective, greedy, greedy_objective, closed,
                         metrics(inst, closed).objective,
                         log=[f"{time.perf_counter() - started:6.2f}s greedy: objective "
                              f"{greedy_objective:,.0f}"])
    progress.checkpoint()
    bound, bound_method, lp_bound = None, "none: the LP did not finish in time", None
    if deadline - time.perf_counter() > 0.05:
        progress.offer(inst, reach_greedy_solution(inst))
        progress.checkpoint()
    remaining = deadline - time.perf_counter()
    if remaining > 0.05:
        relaxation = solve_relaxation(inst, LP_SHARE * remaining, network_model(inst))
        if relaxation.bound is not None:
            bound, bound_method = relaxation.bound, BOUND_METHOD
            lp_bound = bound
            wanted = network_mip or (network_mip is None and workers > 1
                                     and deadline - time.perf_counter() >= MIN_SECONDS)
            proved = _improve(inst, relaxation, progress, deadline, seed, workers, wanted)
            if proved is not None and proved > bound:
                bound, bound_method = proved, NETWORK_BOUND_METHOD
        else:
            progress.log.append(f"LP stopped: {relaxation.status}")
    progress.checkpoint()
    _check_bound(progress, bound)
    return diary_plan(inst, progress.verified, bound=bound, bound_method=bound_method,
                      seconds_to_usable=progress.usable_at,
                      seconds=time.perf_counter() - started, log=tuple(progress.log),
                      errors=tuple(progress.errors), lp_bound=lp_bound)


class _NetworkPlans:
    """The whole-network MIP (`network_mip`) as the build sees it: started from the best plan
    so far, its improved plans offered as they arrive."""

    def __init__(self, inst: Instance, model: NetworkModel, progress: _Progress,
                 deadline: float) -> None:
        self._inst, self._model, self._progress = inst, model, progress
        self._run = NetworkMip(model, plan_point(inst, model, progress.best),
                               time.monotonic() + (deadline - time.perf_counter()))
        progress.log.append(f"{time.perf_counter() - progress.started:6.2f}s network MIP "
                            "started in a process of its own")

    @property
    def running(self) -> bool:
        return self._run.running

    @property
    def dual_bound(self) -> float | None:
        return self._run.dual_bound

    def arrived(self, wait_s: float = 0.0) -> Solution | None:
        """The best plan that arrived since last asked (offered, and as kept), if any."""
        best, best_objective = None, np.inf
        for improved in self._run.improved_plans(wait_s):
            plan = point_plan(self._inst, self._model, improved.point, "network-mip")
            if plan is None:
                self._progress.log.append("network MIP: a plan whose bookings are not whole "
                                          "was passed over")
                continue
            kept = self._progress.offer(self._inst, plan)
            objective = metrics(self._inst, kept).objective
            if objective < best_objective:
                best, best_objective = kept, objective
        return best

    def finish(self) -> None:
        """Take what arrived, end the run, take what arrived meanwhile."""
        self.arrived()
        self._run.stop()
        self.arrived()
        self._progress.log.append(f"network MIP: {self._run.status}")


def closed_solution(inst: Instance) -> Solution:
    """Every room closed and all demand unmet: the plan that breaks no rule, the last resort."""
    return Solution("closed", np.zeros(len(inst.option_class), dtype=int),
                    np.zeros(len(inst.flow_need), dtype=int),
                    np.zeros(len(inst.demand.arc_cell), dtype=int), inst.demand.counts.copy())


def _check_bound(progress: _Progress, bound: float | None) -> None:
    """A plan that passed the check yet scores below our bound means the bound (or the
    scoring) is wrong: an error to report, never a gap of zero."""
    objective = progress.verified_objective
    if bound is not None and objective < bound - BOUND_TOLERANCE * max(1.0, abs(bound)):
        progress.errors.append(f"objective {objective:,.2f} is below the bound {bound:,.2f}: "
                               "the bound or the plan's scoring is wrong")


def _mip_searches(inst: Instance, relaxation: Relaxation, hint: Solution, progress: _Progress,
                  deadline: float, workers: int, network: _NetworkPlans | None) -> None:
    """Site neighbourhoods, then RINS around the plan they reached (it moves demand and
    sessions between sites, which they cannot), then site neighbourhoods again."""
    model = relaxation.model
    left = deadline - time.perf_counter()
    site_mip_search(inst, model, hint, progress.offer_for(inst),
                    min(deadline, time.perf_counter() + SITES_BEFORE_RINS * left), progress.log,
                    workers, network)
    progress.checkpoint()
    if RINS_SHARE * left >= RINS_MIN_S:
        progress.offer(inst, rins(inst, model, relaxation, progress.best,
                                  min(deadline, time.perf_counter() + RINS_SHARE * left)))
        progress.checkpoint()
    site_mip_search(inst, model, progress.best, progress.offer_for(inst), deadline,
                    progress.log, workers, network)
    progress.checkpoint()


def _improve(inst: Instance, relaxation: Relaxation, progress: _Progress, deadline: float,
             seed: int, workers: int, network_mip: bool) -> float | None:
    """The stages after the LP; returns the bound the network MIP proved, if it ran."""
    split = split_staff(inst, relaxation.z)
    if time.perf_counter() >= deadline:
        return None
    roundings = [rounded_solution(inst, relaxation.x, shares)
                 for shares in (weekly_only(inst, split), split)]
    for candidate in roundings:
        progress.offer(inst, candidate)
    progress.checkpoint()
    hint = min((close_idle_offpeak(inst, c) for c in roundings),
               key=lambda c: metrics(inst, c).objective)
    network = _NetworkPlans(inst, relaxation.model, progress, deadline) if network_mip else None
    if network is not None:
        workers = max(1, workers - 1)
    try:
        _mip_searches(inst, relaxation, hint, progress, deadline, workers, network)
        offer = progress.offer_for(inst)
        site_search(inst, progress.best, offer, deadline, seed, workers, progress.log)
        progress.checkpoint()
        modality_polish(inst, progress.best, split, relaxation.z, offer, deadline, seed,
                        workers, progress.log)
    finally:
        if network is not None:
            network.finish()
    return None if network is None else network.dual_bound
