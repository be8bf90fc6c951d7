"""The repair as a CP-SAT model of one neighbourhood, solved lexicographically.

Variables: which list each space runs (exactly one choice, 'no list' included); for each moving
patient, one of their candidate runs, staying put (patients whose slot still exists), or
unplaced. Constraints: a slot holds at most one patient and only if its list runs; a patient
stays only if their list runs unchanged; each site-session's lists can be staffed (never shorter
than the plan already was); added lists fit each site's overtime and freed crews per week.
Objectives, in turn, each kept at its best while the next is minimised: disruption (priority
weight left unplaced, plus EXCESS_MOVE_COST per patient moved whose slot still exists); changed
lists; the patients' cost.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from optimiser.repair.solution import EXCESS_MOVE_COST, Context, Plan, levels
from optimiser.repair.staff_rows import StaffRows, add_staff_rows
from optimiser.repair.staffing import StaffPicture, crew_need

GRACE_S = 0.2
"""How long past its own limit the solver may run before we ask it to stop, and again before
we walk away: a stage ends at most 2 × GRACE_S after its limit."""
STAGE_SHARES = (0.5, 0.5, 1.0)
"""Share of the time left that each lexicographic stage may use."""


@dataclass
class _Patient:
    appointment_id: int
    runs: list[tuple[int, cp_model.IntVar]]
    stay: cp_model.IntVar | None
    unplaced: cp_model.IntVar


class RepairModel:
    def __init__(self, context: Context, staff: StaffPicture, allowed: dict) -> None:
        self.context, self.staff, self.allowed = context, staff, allowed
        self.hood = context.hood
        self.diary = context.positions.diary
        self.model = cp_model.CpModel()
        self.y: dict[tuple[int, str | None], cp_model.IntVar] = {}
        self.patients: dict[int, _Patient] = {}
        self.staff_rows: list[StaffRows] = []
        self.statuses: dict[int, str] = {}
        """How each stage ended: OPTIMAL, 'at its lower bound', FEASIBLE, ..."""
        self.stopped = False
        """A stage found nothing in its time (not even the hint): give up on this model."""
        self._lists()
        self._patients()
        self._slots()
        self._staffing()
        self._budgets()
        self.objectives = self._objectives()

    def _lists(self) -> None:
        """Exactly one choice per space with a choice."""
        if self.context.lists_fixed:
            return
        for s, space in enumerate(self.hood.spaces):
            if len(space.options) == 1:
                continue
            choices = [self.model.new_bool_var(f"y{s}_{o}") for o in space.options]
            self.model.add_exactly_one(choices)
            for option, var in zip(space.options, choices, strict=True):
                self.y[(s, option)] = var

    def runs(self, s: int, option: str | None):
        """1 (or a variable) when space s runs `option`; 0 when it cannot."""
        if (s, option) in self.y:
            return self.y[(s, option)]
        if self.context.lists_fixed:
            return int(self.hood.spaces[s].current == option)
        return int(self.hood.spaces[s].options == (option,))

    def _patients(self) -> None:
        forced = set(self.hood.forced)
        for a in self.hood.forced + self.hood.movable:
            candidates = self.context.candidates[a]
            runs = [(int(row), self.model.new_bool_var(f"a{a}_{row}")) for row in candidates.rows]
            stay = None if a in forced else self.model.new_bool_var(f"stay{a}")
            unplaced = self.model.new_bool_var(f"u{a}")
            self.model.add_exactly_one([v for _, v in runs] + [unplaced]
                                       + ([stay] if stay is not None else []))
            if stay is not None:
                s = self.context.positions.space_of[self.diary.runs[a].key]
                current = self.hood.spaces[s].current
                if (s, current) in self.y:
                    self.model.add_implication(stay, self.y[(s, current)])
            self.patients[a] = _Patient(a, runs, stay, unplaced)

    def _slots(self) -> None:
        """At most one patient per slot, and only in a list that runs."""
        positions = self.context.positions
        cover: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for a, patient in self.patients.items():
            candidates = self.context.candidates[a]
            for (row, var), count in zip(patient.runs, candidates.slots, strict=True):
                for k in range(int(count)):
                    cover[row + k].append(var)
            if patient.stay is not None:
                own = positions.own_row(a)
                if own is not None:
                    for k in range(self.diary.runs[a].count):
                        cover[own + k].append(patient.stay)
        for row, variables in cover.items():
            s, option = int(positions.space[row]), positions.template[row]
            on = self.runs(s, option)
            if isinstance(on, int):
                if len(variables) > 1:
                    self.model.add_at_most_one(variables)
            else:
                self.model.add(sum(variables) <= on)

    def _staffing(self) -> None:
        if self.context.lists_fixed:
            return
        templates = self.diary.templates
        for where, (fixed, spaces) in self.hood.staffing.items():
            chosen = [(self.y[(s, o)], templates[o]) for s in spaces
                      for o in self.hood.spaces[s].options if o is not None]
            self.staff_rows.append(add_staff_rows(
                self.model, self.staff.groups(where[0]), self.staff.available(where),
                self.allowed.get(where, 0), [templates[t] for t in fixed], chosen,
                f"st{where[0]}_{where[1]:%m%d}_{where[2]}"))

    def _budgets(self) -> None:
        if self.context.lists_fixed:
            return
        templates = self.diary.templates
        terms: dict[tuple, list] = defaultdict(list)
        for where, (_, spaces) in self.hood.staffing.items():
            week = where[1].isocalendar()[:2]
            for s in spaces:
                space = self.hood.spaces[s]
                current = (crew_need(templates[space.current]) if space.current else None)
                for option in space.options:
                    if option is None:
                        continue
                    need, crew = crew_need(templates[option])
                    terms[(where[0], need.role, week)].append((self.y[(s, option)], crew))
                if current is not None:
                    terms[(where[0], current[0].role, week)].append((None, -current[1]))
        for key, entries in terms.items():
            added = sum(c * v for v, c in entries if v is not None)
            already = sum(-c for v, c in entries if v is None)
            self.model.add(added - already <= self.hood.budgets.get(key, 0))

    def _objectives(self) -> list:
        forced = set(self.hood.forced)
        unplaced = sum(self.diary.bookings[a].priority.weight * p.unplaced
                       for a, p in self.patients.items())
        excess = sum(1 - p.stay for a, p in self.patients.items()
                     if a not in forced and p.stay is not None)
        changed = sum(1 - self.y[(s, space.current)] for s, space in enumerate(self.hood.spaces)
                      if (s, space.current) in self.y)
        cost = sum(self.context.cost_of(a, row) * var for a, p in self.patients.items()
                   for row, var in p.runs)
        return [unplaced + EXCESS_MOVE_COST * excess, changed, cost]

    def hint(self, plan: Plan) -> None:
        """A complete hint: every variable, staff flows included (by variable index)."""
        self.model.clear_hints()
        values: dict[int, int] = {}
        for (s, option), var in self.y.items():
            values[var.index] = int(plan.choice[s] == option)
        for a, patient in self.patients.items():
            target = plan.place.get(a, "stay")
            for row, var in patient.runs:
                values[var.index] = int(target == row)
            values[patient.unplaced.index] = int(a in plan.place and target is None)
            if patient.stay is not None:
                values[patient.stay.index] = int(a not in plan.place)
        for rows in self.staff_rows:
            values.update(rows.hint(lambda var: values[var.index]))
        for index, value in values.items():
            self.model.add_hint(self.model.get_int_var_from_proto_index(index), value)

    def solve(self, hint: Plan, deadline: float, seed: int, workers: int,
              stages: tuple[int, ...] = (0, 1, 2), use_bounds: bool = True,
              share: float | None = None) -> Plan:
        """The given lexicographic stages until the deadline, each from the best plan so far
        (the hint at first), each kept at its best for the stages after (on later calls too);
        with `use_bounds`, a stage whose best plan already meets our lower bound is fixed there
        without a solve. `share`: of the time left, what each stage may use (default
        STAGE_SHARES). Returns the best plan, with what happened in its log."""
        best, log = hint, []
        self.hint(best)
        for stage in stages:
            objective = self.objectives[stage]
            part = STAGE_SHARES[stage] if share is None else share
            if isinstance(objective, int):
                continue
            score = best.levels
            if use_bounds and score[stage] <= self._lower_bound(stage, score):
                self.model.add(objective <= score[stage])
                log.append(f"stage {stage}: meets the lower bound")
                self.statuses[stage] = "at its lower bound"
                continue
            left = deadline - time.perf_counter() - 2 * GRACE_S
            if left < 0.05:
                log.append(f"stage {stage}: no time left")
                break
            outcome = solve_stopped_from_outside(self.model, objective, part * left, seed,
                                                 workers)
            log.append(f"stage {stage}: {outcome.status} in {outcome.seconds:.2f}s")
            self.statuses[stage] = outcome.status
            if outcome.values is None:
                self.stopped = True
                break
            found = self._read(outcome.values, outcome.status)
            if found.levels < best.levels:
                best = found
            self.model.add(objective <= best.levels[stage])
            self.hint(best)
        return replace(best, log=log)

    def _lower_bound(self, stage: int, score: tuple[int, int, int]) -> int:
        """Unplaced: patients with nowhere to go in this model; excess moves and changes: 0;
        the patients' cost, when all others are placed: each one's cheapest placement (0 for
        a patient who may stay)."""
        stuck = sum(self.diary.bookings[a].priority.weight for a, p in self.patients.items()
                    if not p.runs and p.stay is None)
        floor = stuck
        if stage == 0:
            return floor
        if stage == 1 or score[0] > floor:
            return 0
        return sum(int(self.context.candidates[a].cost.min())
                   for a, p in self.patients.items() if p.stay is None and p.runs)

    def _read(self, values: list[int], status: str) -> Plan:
        choice = {s: space.current for s, space in enumerate(self.hood.spaces)}
        for (s, option), var in self.y.items():
            if values[var.index]:
                choice[s] = option
        place: dict[int, int | None] = {}
        for a, patient in self.patients.items():
            if patient.stay is not None and values[patient.stay.index]:
                continue
            chosen = [row for row, var in patient.runs if values[var.index]]
            place[a] = chosen[0] if chosen else None
        return Plan("cp-sat", status, choice, place, levels(self.context, choice, place))


@dataclass
class Outcome:
    status: str
    values: list[int] | None
    """Every variable's value in the last solution found (None: none found)."""
    seconds: float


class _Keeper(cp_model.CpSolverSolutionCallback):
    """Keeps the latest solution, so a solver that will not stop still leaves one behind."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[int] | None = None

    def on_solution_callback(self) -> None:
        self.values = list(self.response_proto.solution)


def solve_stopped_from_outside(model: cp_model.CpModel, objective, limit_s: float, seed: int,
                               workers: int) -> Outcome:
    """Solve in a thread; if it overruns its limit (or.tools #5163, and hinted models that
    stall in presolve) ask it to stop, and if it still runs, walk away with the last solution
    it reported. Symmetry detection is off: with a complete hint it stalled the solver after
    presolve for 13–20 s, deaf to the time limit and to stop_search (9.15, a 16-patient
    model)."""
    started = time.perf_counter()
    model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.symmetry_level = 0
    # exactly-one and at-most-one rows in the LP: without them the LP of the patients' cost
    # has no rows and proves nothing (default_lp, the usual full-problem worker, leaves them out)
    solver.parameters.linearization_level = 2
    # presolve probing took 2.8 s of a 3 s budget on a 13k-variable model, and a solver stopped
    # in presolve returns nothing, not even the hint (or-tools #3750)
    solver.parameters.cp_model_probing_level = 0
    if workers > 1:
        solver.parameters.subsolvers.append("max_lp")
    keeper = _Keeper()
    ended: dict[str, int] = {}
    thread = threading.Thread(target=lambda: ended.update(status=solver.solve(model, keeper)),
                              daemon=True)
    thread.start()
    thread.join(max(0.01, limit_s) + GRACE_S)
    if thread.is_alive():
        solver.stop_search()
        thread.join(GRACE_S)
    seconds = time.perf_counter() - started
    if thread.is_alive():
        return Outcome("STOPPED FROM OUTSIDE", keeper.values, seconds)
    status = ended["status"]
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Outcome(solver.status_name(status), None, seconds)
    return Outcome(solver.status_name(status), list(solver.response_proto.solution), seconds)
