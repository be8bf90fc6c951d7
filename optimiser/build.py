"""`build_diary`: the staged diary build, under one wall-clock deadline.

greedy (the fallback, kept from the start) → greedy repaired (a usable plan in about 2 s) →
joint LP (our bound, and the staff shares between modalities) → LP roundings that keep
radiologist-led rooms together → CP-SAT on exact
sub-models with the rest of the plan fixed: site neighbourhoods, then one model per modality,
each with a complete hint. The best plan seen is returned; a stage that fails or runs out of
time is logged and skipped, never fatal."""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimiser.evaluation import Solution, metrics
from optimiser.greedy import greedy_solution
from optimiser.instance import Instance, compile_instance
from optimiser.plan_output import diary_plan
from optimiser.problem import DiaryPlan, DiaryProblem
from optimiser.pruning import close_idle_offpeak
from optimiser.relaxation import BOUND_METHOD, solve_relaxation
from optimiser.rounding import repaired_solution, rounded_solution
from optimiser.search import modality_polish, site_search
from optimiser.staff_split import split_staff, weekly_only

LP_SHARE = 0.8
"""At most this share of the time left goes on the LP (our bound); the rest is for CP-SAT."""


@dataclass
class _Progress:
    started: float
    greedy_objective: float
    best: Solution
    best_objective: float
    usable_at: float | None
    log: list[str]

    def offer(self, inst: Instance, solution: Solution) -> Solution:
        """Record a plan (idle off-peak sessions closed first) and return it as kept."""
        solution = close_idle_offpeak(inst, solution)
        objective = metrics(inst, solution).objective
        now = time.perf_counter() - self.started
        self.log.append(f"{now:6.2f}s {solution.method}: objective {objective:,.0f}")
        if objective < self.best_objective - 1e-6:
            self.best, self.best_objective = solution, objective
        if self.usable_at is None and objective < self.greedy_objective - 1e-6:
            self.usable_at = now
        return solution


def build_diary(problem: DiaryProblem, time_limit_s: float = 60.0, seed: int = 0,
                workers: int = 2) -> DiaryPlan:
    """The best diary found within `time_limit_s` (plus the fixed cost of the greedy plan).
    Raises DiaryInputError for input that cannot be planned; otherwise always returns a plan."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    inst = compile_instance(problem)
    greedy = greedy_solution(inst)
    greedy_objective = metrics(inst, greedy).objective
    progress = _Progress(started, greedy_objective, greedy, greedy_objective, None,
                         [f"{time.perf_counter() - started:6.2f}s greedy: objective "
                          f"{greedy_objective:,.0f}"])
    bound, bound_method = None, "none: the LP did not finish in time"
    if deadline - time.perf_counter() > 0.05:
        progress.offer(inst, repaired_solution(inst, greedy))
    remaining = deadline - time.perf_counter()
    if remaining > 0.05:
        relaxation = solve_relaxation(inst, time_limit_s=LP_SHARE * remaining)
        if relaxation.bound is not None:
            bound, bound_method = relaxation.bound, BOUND_METHOD
            _improve(inst, relaxation, progress, deadline, seed, workers)
        else:
            progress.log.append(f"LP stopped: {relaxation.status}")
    return diary_plan(inst, progress.best, bound=bound, bound_method=bound_method,
                      seconds_to_usable=progress.usable_at,
                      seconds=time.perf_counter() - started, log=tuple(progress.log))


def _improve(inst: Instance, relaxation, progress: _Progress, deadline: float, seed: int,
             workers: int) -> None:
    split = split_staff(inst, relaxation.z)
    if time.perf_counter() >= deadline:
        return
    roundings = [rounded_solution(inst, relaxation.x, shares)
                 for shares in (weekly_only(inst, split), split)]
    for candidate in roundings:
        progress.offer(inst, candidate)
    hint = min((close_idle_offpeak(inst, c) for c in roundings),
               key=lambda c: metrics(inst, c).objective)

    def offer(solution: Solution) -> Solution:
        return progress.offer(inst, solution)

    best = site_search(inst, hint, offer, deadline, seed, workers, progress.log)
    modality_polish(inst, best, split, relaxation.z, offer, deadline, seed, workers,
                    progress.log)
