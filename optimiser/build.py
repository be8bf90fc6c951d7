"""`build_diary`: the staged diary build, under one wall-clock deadline.

greedy (the fallback, kept from the start) → reach greedy (the stronger baseline: a usable
plan in about 2 s) → joint LP (our bound, and the staff shares between modalities) → LP
roundings that keep radiologist-led rooms together → site neighbourhoods solved as exact MIPs
on the network model (HiGHS, the rest of the plan fixed) → CP-SAT on exact sub-models with the
rest of the plan fixed: site neighbourhoods, then one model per modality, each with a complete
hint. The best plan seen that passes the independent plan check
(`plan_check`, run after each stage) is returned; a stage that fails or runs out of time is
logged and skipped, never fatal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optimiser.evaluation import Solution, metrics
from optimiser.greedy import greedy_solution
from optimiser.instance import Instance, compile_instance
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.problem import BOUND_TOLERANCE, DiaryPlan, DiaryProblem
from optimiser.pruning import close_idle_offpeak
from optimiser.reach_greedy import reach_greedy_solution
from optimiser.relaxation import BOUND_METHOD, solve_relaxation
from optimiser.rounding import rounded_solution
from optimiser.search import modality_polish, site_search
from optimiser.site_mip import site_mip_search
from optimiser.staff_split import split_staff, weekly_only

LP_SHARE = 0.8
"""At most this share of the time left goes on the LP (our bound); the rest is for CP-SAT."""


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
                workers: int = 2) -> DiaryPlan:
    """The best diary found within `time_limit_s` (plus the fixed cost of the greedy plan and
    of checking the plan returned). Raises DiaryInputError for input that cannot be planned;
    otherwise always returns a plan that passes `check_plan` (at worst every room closed)."""
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
    bound, bound_method = None, "none: the LP did not finish in time"
    if deadline - time.perf_counter() > 0.05:
        progress.offer(inst, reach_greedy_solution(inst))
        progress.checkpoint()
    remaining = deadline - time.perf_counter()
    if remaining > 0.05:
        relaxation = solve_relaxation(inst, time_limit_s=LP_SHARE * remaining)
        if relaxation.bound is not None:
            bound, bound_method = relaxation.bound, BOUND_METHOD
            _improve(inst, relaxation, progress, deadline, seed, workers)
        else:
            progress.log.append(f"LP stopped: {relaxation.status}")
    progress.checkpoint()
    _check_bound(progress, bound)
    return diary_plan(inst, progress.verified, bound=bound, bound_method=bound_method,
                      seconds_to_usable=progress.usable_at,
                      seconds=time.perf_counter() - started, log=tuple(progress.log),
                      errors=tuple(progress.errors))


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


def _improve(inst: Instance, relaxation, progress: _Progress, deadline: float, seed: int,
             workers: int) -> None:
    split = split_staff(inst, relaxation.z)
    if time.perf_counter() >= deadline:
        return
    roundings = [rounded_solution(inst, relaxation.x, shares)
                 for shares in (weekly_only(inst, split), split)]
    for candidate in roundings:
        progress.offer(inst, candidate)
    progress.checkpoint()
    hint = min((close_idle_offpeak(inst, c) for c in roundings),
               key=lambda c: metrics(inst, c).objective)

    def offer(solution: Solution) -> Solution:
        return progress.offer(inst, solution)

    if relaxation.model is not None:
        site_mip_search(inst, relaxation.model, hint, offer, deadline, progress.log,
                        workers)
        progress.checkpoint()
    site_search(inst, progress.best, offer, deadline, seed, workers, progress.log)
    progress.checkpoint()
    modality_polish(inst, progress.best, split, relaxation.z, offer, deadline, seed, workers,
                    progress.log)
