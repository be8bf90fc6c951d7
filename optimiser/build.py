"""`build_diary`: the staged diary build. Greedy plan (the fallback, kept from the start) → joint
LP (our bound and the staff split) → LP rounding (a usable plan in seconds) → one CP-SAT model per
modality with a complete hint, under a wall-clock deadline. The best plan seen is returned;
a stage that fails or runs out of time is logged and skipped, never fatal."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimiser.evaluation import Solution, metrics
from optimiser.greedy import greedy_solution
from optimiser.instance import MODALITIES, Instance, compile_instance
from optimiser.modality_model import merge, solve_modality
from optimiser.plan_output import diary_plan
from optimiser.problem import DiaryPlan, DiaryProblem
from optimiser.pruning import close_idle_offpeak
from optimiser.relaxation import BOUND_METHOD, solve_relaxation
from optimiser.rounding import repaired_solution, rounded_solution
from optimiser.staff_split import around_plan, split_staff, weekly_only

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

    def offer(self, inst: Instance, solution: Solution) -> None:
        solution = close_idle_offpeak(inst, solution)
        objective = metrics(inst, solution).objective
        now = time.perf_counter() - self.started
        self.log.append(f"{now:6.2f}s {solution.method}: objective {objective:,.0f}")
        if objective < self.best_objective - 1e-6:
            self.best, self.best_objective = solution, objective
        if self.usable_at is None and objective < self.greedy_objective - 1e-6:
            self.usable_at = now


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


def _dive(inst: Instance, hint: Solution, split, progress: _Progress,
          deadline: float) -> Solution:
    """Pin the radiologist-led rooms as rounded, re-solve the LP around them and round again:
    the rest of the plan then fits the whole radiologists the first rounding settled on."""
    left = deadline - time.perf_counter()
    if left < 4.0:
        return hint
    pinned = np.where(inst.option_rad_need >= 0, hint.x.astype(float), np.nan)
    restricted = solve_relaxation(inst, time_limit_s=0.5 * left, fixed_rooms=pinned)
    if restricted.bound is None:
        return hint
    dived = rounded_solution(inst, restricted.x,
                             weekly_only(inst, split_staff(inst, restricted.z)))
    dived.method = "lp-dive"
    progress.offer(inst, dived)
    dived = close_idle_offpeak(inst, dived)
    return min((hint, dived), key=lambda c: metrics(inst, c).objective)


def _improve(inst: Instance, relaxation, progress: _Progress, deadline: float, seed: int,
             workers: int) -> None:
    split = split_staff(inst, relaxation.z)
    if time.perf_counter() >= deadline:
        return
    roundings = [rounded_solution(inst, relaxation.x, shares)
                 for shares in (weekly_only(inst, split), split, None)]
    for candidate in roundings:
        progress.offer(inst, candidate)
    hint = min((close_idle_offpeak(inst, c) for c in roundings),
               key=lambda c: metrics(inst, c).objective)
    hint = _dive(inst, hint, split, progress, deadline)
    split = around_plan(inst, split, hint.z, relaxation.z)
    sizes = {m: len(inst.options_of(m)) + len(inst.demand.cells_of(m)) * 10 for m in MODALITIES}
    results = []
    waiting = sorted((m for m in MODALITIES if sizes[m] > 0), key=lambda m: -sizes[m])
    while waiting:
        modality = waiting[0]
        left = deadline - time.perf_counter()
        share = left * sizes[modality] / sum(sizes[m] for m in waiting)
        waiting.pop(0)
        if share < 0.5:
            progress.log.append(f"CP-SAT {modality}: skipped, {left:.1f}s left")
            continue
        result = solve_modality(inst, modality, split, hint, time.perf_counter() + share,
                                seed=seed, workers=workers)
        progress.log.append(f"CP-SAT {modality}: {result.status}")
        if result.x:
            results.append(result)
            progress.offer(inst, merge(hint, results))
