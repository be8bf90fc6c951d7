"""The exact optimum to measure a repair against: the complete model of the same neighbourhood,
where every patient of it may move (not only those displaced or in the way) and every room-
session may take any list, solved by CP-SAT until proven optimal or out of time. Far too big
for a busy site's neighbourhood; used by the benchmark on a small one and by tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimiser.repair.closures import choose_closures
from optimiser.repair.greedy import greedy_plan
from optimiser.repair.model import RepairModel
from optimiser.repair.problem import RepairProblem, RepairSettings
from optimiser.repair.repair import RepairRun, allowed_shorts
from optimiser.repair.solution import counts


@dataclass(frozen=True)
class ExactOptimum:
    status: str
    """CP-SAT's status for the disruption level: 'OPTIMAL' when it proved it."""
    changed_status: str
    """CP-SAT's status for the fewest changed lists, given the best disruption."""
    disruption: int
    moves: int
    excess_moves: int
    unplaced: int
    changed_sessions: int
    placements: int
    """Placement variables in the model."""
    seconds: float

    @property
    def proven(self) -> bool:
        return self.status == "OPTIMAL"


def exact_optimum(problem: RepairProblem, settings: RepairSettings = RepairSettings(),
                  time_limit_s: float = 300.0) -> ExactOptimum:
    """The complete model's best disruption (then fewest changed lists) within the limit."""
    started = time.perf_counter()
    run = RepairRun(problem, settings)
    deadline = started + time_limit_s
    closures = choose_closures(run.diary, run.effects, run.staff, deadline, run.future_lists())
    context = run.context(set(), closures, complete=True)
    allowed = closures.allowed_short | allowed_shorts(run, context)
    hint = greedy_plan(context, run.staff, allowed)
    model = RepairModel(context, run.staff, allowed)
    plan = model.solve(hint, deadline, settings.seed, settings.workers, (0,), use_bounds=False,
                       share=0.8)
    status = model.statuses.get(0, "NOT RUN")
    plan = model.solve(plan, deadline, settings.seed, settings.workers, (1,), use_bounds=False,
                       share=1.0)
    _, excess = counts(context, plan.place)
    unplaced = sum(1 for row in plan.place.values() if row is None)
    return ExactOptimum(
        status=status, changed_status=model.statuses.get(1, "NOT RUN"),
        disruption=plan.levels[0],
        moves=sum(1 for row in plan.place.values() if row is not None), excess_moves=excess,
        unplaced=unplaced, changed_sessions=plan.levels[1] + len(closures.closed),
        placements=sum(len(c.rows) for c in context.candidates.values()),
        seconds=time.perf_counter() - started)
