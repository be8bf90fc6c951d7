"""`repair_diary`: re-plan the neighbourhood a disruption touches, moving the fewest patients.

One wall-clock deadline from the call (`time_limit_s`, less FINISH_S kept for the check):
1. read only the days, sites and modalities the disruption can touch; check them and the
   disruptions (RepairInputError names the field); where staff are short, close the lists
   that displace fewest patients (exact, per site-session);
2. the neighbourhood's spaces, placements and their costs; the greedy plan in the lists that
   run (the floor, always kept). If it leaves unplaced only patients no slot here could take,
   it is optimal in disruption outright, and CP-SAT only lowers the patients' cost in the
   running lists; otherwise a second greedy plan may open lists, and CP-SAT may open, close
   or change lists, from the better greedy plan as a complete hint;
3. if that still leaves someone unplaced who might be placed, widen: every patient of the
   neighbourhood may move (the complete model) when it is small enough, else those holding
   slots that an urgent unplaced patient could take; hinted from the best plan so far;
4. with time left, fewest changed lists, then the patients' cost, on the best model;
5. the plan is put into words and checked independently; a plan failing the check is never
   returned (the greedy plan is, and the failure is logged). Checking the input and the greedy
   plan are a fixed cost: with a tiny limit the greedy plan comes back a little late.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace

from optimiser.repair.assemble import moves_and_unplaced, session_changes
from optimiser.repair.check import check_repair
from optimiser.repair.closures import Closures, allowed_short, choose_closures
from optimiser.repair.diary import Diary
from optimiser.repair.disruption import (
    Effects,
    disruption_effects,
    repair_modalities,
    repair_sites,
    repair_window,
)
from optimiser.repair.greedy import greedy_plan
from optimiser.repair.model import RepairModel
from optimiser.repair.neighbourhood import neighbourhood
from optimiser.repair.positions import Positions
from optimiser.repair.problem import RepairProblem, RepairSettings
from optimiser.repair.result import RepairResult
from optimiser.repair.solution import EXCESS_MOVE_COST, Context, Plan
from optimiser.repair.staffing import StaffPicture
from slot_rules.loading import shipped_slot_eligibility

MAX_BLOCKERS = 400
"""At most this many patients holding wanted slots may move in the widened model."""
WIDEN_MIN_S = 0.3
FINISH_S = 0.4
FINISH_PER_BOOKING_S = 1e-5
"""Kept back from the time limit for putting the plan into words and checking it (0.4 s, and
more for a bigger neighbourhood: 0.4 s more for 40,000 bookings read)."""
MIN_SOLVE_S = 0.15
PLACEMENTS_PER_S = 40_000
"""Placement variables the model builder writes per second (measured, with their rows)."""
BUILD_SHARE = 0.3
"""At most this share of the time left goes on building a model."""


class RepairRun:
    """One repair in progress: shared state, timings and the best plan so far."""

    def __init__(self, problem: RepairProblem, settings: RepairSettings) -> None:
        self.started = time.perf_counter()
        self.problem, self.settings = problem, settings
        self.timings: dict[str, float] = {}
        self.log: list[str] = []
        self.found: list[tuple[float, int]] = []
        self.diary = Diary(problem, *repair_window(problem, settings),
                           sites=repair_sites(problem, settings),
                           modalities=repair_modalities(problem))
        self.effects: Effects = disruption_effects(self.diary)
        self.staff = StaffPicture(problem.network.staff_groups, problem.staff_availability,
                                  self.effects, problem.overtime_share)
        self.rules = problem.rules or shipped_slot_eligibility()
        self.lap("check input")

    def lap(self, name: str) -> None:
        now = time.perf_counter() - self.started
        self.timings[name] = round(now - sum(self.timings.values()), 4)

    def note(self, plan: Plan) -> Plan:
        """Remember when a plan was found and its disruption (for `seconds_to_moves`)."""
        self.found.append((time.perf_counter() - self.started, plan.levels[0]))
        return plan

    def seconds_to(self, disruption: int) -> float:
        """When the first plan as good in disruption as `disruption` was found."""
        return min((t for t, level in self.found if level <= disruption), default=0.0)

    def future_lists(self) -> Counter:
        """Patients yet to come, per list."""
        now = self.problem.now
        return Counter(self.diary.runs[a].key for a, b in self.diary.bookings.items()
                       if b.start >= now)

    def model(self, context: Context, hint: Plan, allowed: dict, deadline: float,
              name: str) -> RepairModel | None:
        """A CP-SAT model of the context, pruned to what can be built in the time left."""
        left = deadline - time.perf_counter()
        if not context.hood.forced and not context.hood.movable:
            return None
        if left < MIN_SOLVE_S:
            self.log.append(f"{name}: skipped, {max(0.0, left):.2f}s left")
            return None
        model = RepairModel(context.pruned(int(BUILD_SHARE * left * PLACEMENTS_PER_S), hint),
                            self.staff, allowed)
        self.lap(f"model: {name}")
        return model

    def solve(self, model: RepairModel | None, hint: Plan, deadline: float, name: str,
              stages: tuple[int, ...]) -> Plan:
        if model is None or model.stopped:
            return hint
        plan = model.solve(hint, deadline, self.settings.seed, self.settings.workers, stages)
        self.lap(f"solve: {name} {stages}")
        self.log += [f"{name}: {line}" for line in plan.log]
        self.log.append(f"{name}: levels {plan.levels} (hint {hint.levels})")
        return plan

    def context(self, movable: set[int], closures: Closures, complete: bool = False) -> Context:
        hood = neighbourhood(self.diary, self.effects, closures, self.staff, self.settings,
                             movable, complete)
        positions = Positions(self.diary, hood, self.rules, self.settings.notice_hours)
        candidates = {a: positions.candidates(a) for a in hood.forced + hood.movable}
        return Context(hood, positions, candidates)


def repair_diary(problem: RepairProblem, settings: RepairSettings = RepairSettings()
                 ) -> RepairResult:
    """The repaired neighbourhood. Raises RepairInputError (naming the field) on bad input;
    otherwise always returns a checked plan, the greedy one at worst."""
    with _collector_paused():
        return _repair(problem, settings)


@contextmanager
def _collector_paused():
    """The cycle collector off while the repair runs: with a diary of ~200k bookings in memory
    each full collection walks millions of objects, and the repair's own allocations set them
    off every few milliseconds (measured: a third of the time). It makes no cycles to leak."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _repair(problem: RepairProblem, settings: RepairSettings) -> RepairResult:
    run = RepairRun(problem, settings)
    deadline = run.started + settings.time_limit_s - FINISH_S - FINISH_PER_BOOKING_S * len(
        run.diary.bookings)
    closures = choose_closures(run.diary, run.effects, run.staff, deadline, run.future_lists())
    run.lap("staff closures")
    full = run.context(set(), closures)
    run.lap("neighbourhood")
    allowed = closures.allowed_short | allowed_shorts(run, full)
    floor = full.no_eligible_slot()
    running = full.running_only()
    greedy = run.note(greedy_plan(running, run.staff, allowed))
    run.lap("greedy")
    if greedy.levels[0] <= floor:
        context, hint, name = running, greedy, "running lists"
    else:
        opened = run.note(greedy_plan(full, run.staff, allowed))
        run.lap("greedy with new lists")
        context, hint, name = full, opened, "lists"
    model = run.model(context, hint, allowed, deadline, name)
    best = run.note(run.solve(model, hint, deadline, name, (0,)))
    best_context = full
    if best.levels[0] > floor and time.perf_counter() < deadline - WIDEN_MIN_S:
        widened = _widen(run, full, best, closures, deadline)
        if widened is not None:
            best, best_context, model, name = widened
            run.note(best)
    best = run.solve(model, best, deadline, name, (1, 2))
    run.log.append(f"disruption {best.levels[0]}, lower bound {floor}")
    return _result(run, best, best_context, closures, greedy, full)


def allowed_shorts(run: RepairRun, context: Context) -> dict:
    """People each site-session with a choice was already short by."""
    return {where: allowed_short(run.diary, run.effects, run.staff, where)
            for where in context.hood.staffing}


def _widen(run: RepairRun, context: Context, best: Plan, closures: Closures, deadline: float):
    """A wider model with more patients free to move, hinted from the best plan so far."""
    hood = context.hood
    estimate = sum(len(context.candidates[a].eligible) for a in hood.forced)
    people = sum(len(run.diary.booked_in.get(s.key, [])) for s in hood.spaces)
    complete = estimate / max(1, len(hood.forced)) * (people + len(hood.forced)) <= (
        run.settings.complete_limit)
    movable = set() if complete else _blockers(context, best)
    if not complete and not movable:
        return None
    wider = run.context(movable, closures, complete)
    run.lap("widen")
    hint = _translate(best, context, wider)
    allowed = closures.allowed_short | allowed_shorts(run, wider)
    name = "complete" if complete else "bumps"
    model = run.model(wider, hint, allowed, deadline, name)
    found = run.solve(model, hint, deadline, name, (0,))
    if found.levels >= best.levels:
        return None
    return found, wider, model, name


def _blockers(context: Context, best: Plan) -> set[int]:
    """Patients staying in slots that an unplaced patient could take, where that patient is
    urgent enough to be worth moving someone for."""
    positions = context.positions
    diary = positions.diary
    holder = {(run.key, slot): a for a, run in diary.runs.items() for slot in run.slots()}
    found: set[int] = set()
    for a, row in best.place.items():
        if row is not None or diary.bookings[a].priority.weight <= EXCESS_MOVE_COST:
            continue
        for r in context.candidates[a].eligible:
            space = context.hood.spaces[int(positions.space[r])]
            if positions.template[r] == space.current:
                other = holder.get((space.key, int(positions.index[r])))
                if other is not None and other != a and diary.bookings[other].start >= (
                        diary.problem.now):
                    found.add(other)
            if len(found) >= MAX_BLOCKERS:
                return found
    return found


def _translate(plan: Plan, old: Context, new: Context) -> Plan:
    """The same plan in a wider neighbourhood's indices (movable patients staying)."""
    old_rows = old.positions
    new_space = new.positions.space_of
    choice = {s: space.current for s, space in enumerate(new.hood.spaces)}
    for s, option in plan.choice.items():
        key = old.hood.spaces[s].key
        if key in new_space:
            choice[new_space[key]] = option
    place: dict[int, int | None] = {}
    for a, row in plan.place.items():
        if row is None:
            place[a] = None
            continue
        s = new_space[old.hood.spaces[int(old_rows.space[row])].key]
        first, _ = new.positions.blocks[(s, old_rows.template[row])]
        place[a] = first + int(old_rows.index[row])
    return Plan(plan.method, plan.status, choice, place, plan.levels)


def _result(run: RepairRun, best: Plan, context: Context, closures: Closures, greedy: Plan,
            greedy_context: Context) -> RepairResult:
    result = _assemble(run, best, context, closures)
    problems = check_repair(run.problem, result, run.diary)
    if problems and best is not greedy:
        run.log.append(f"{best.method} plan failed the check ({problems[0]}); "
                       f"returning the greedy plan")
        result = _assemble(run, greedy, greedy_context, closures)
        problems = check_repair(run.problem, result, run.diary)
    if problems:
        raise RuntimeError("the repaired plan failed its check: " + "; ".join(problems[:5]))
    run.lap("assemble and check")
    return replace(result, seconds=time.perf_counter() - run.started, timings=dict(run.timings),
                   seconds_to_moves=round(run.seconds_to(_disruption(result, run)), 4))


def _disruption(result: RepairResult, run: RepairRun) -> int:
    weights = sum(run.diary.bookings[u.appointment_id].priority.weight for u in result.unplaced)
    return weights + EXCESS_MOVE_COST * result.excess_moves


def _assemble(run: RepairRun, plan: Plan, context: Context, closures: Closures) -> RepairResult:
    moves, unplaced = moves_and_unplaced(context, plan, run.effects, closures)
    changes = session_changes(context, plan, run.effects, closures)
    return RepairResult(
        method=plan.method, status=plan.status, moves=tuple(moves), unplaced=tuple(unplaced),
        session_changes=tuple(changes), neighbourhood=context.hood.describe(),
        seconds=time.perf_counter() - run.started, timings=dict(run.timings),
        log=(*run.log, f"levels (disruption, changed, cost): {plan.levels}"))
