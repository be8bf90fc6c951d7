"""CP-SAT sub-models of the diary: whole room counts per room class × template × session,
staff flows within the scope's limits, exams allocated to sites within the travel limit, with
everything outside the scope fixed (see `scopes`: one modality within its staff share, or one
site). The caller gives a complete hint (every variable) and a deadline; the solver is stopped
from outside if it runs past it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from domain.vocabulary import Modality
from optimiser.demand_cells import PRIORITY_WEIGHTS
from optimiser.evaluation import Solution
from optimiser.instance import Instance
from optimiser.scopes import Scope, modality_scope
from optimiser.staff_split import StaffSplit

COST_SCALE = 10
"""CP-SAT needs whole-number costs: points × 10 (travel to 0.01 km)."""
WAIT_SCALE = 1000
"""The longest projected wait is a whole number of thousandths."""
GRACE_S = 0.5
"""How long past its own limit the solver may run before we stop it from outside."""


@dataclass
class ModalityResult:
    """A sub-model's values (empty when it found no solution)."""

    scope: str
    status: str
    x: dict[int, int]
    z: dict[int, int]
    w: dict[int, int]
    unmet: dict[tuple[int, int], int]


class _Model:
    def __init__(self, inst: Instance, scope: Scope) -> None:
        self.inst, self.scope = inst, scope
        self.model = cp_model.CpModel()
        self.options, self.flows = scope.options, scope.flows
        self.cells, self.arcs = scope.cells, scope.arcs
        self.terms: list[tuple[cp_model.IntVar, int]] = []
        self.x: dict[int, cp_model.IntVar] = {}
        self.z: dict[int, cp_model.IntVar] = {}
        self.w: dict[int, cp_model.IntVar] = {}
        self.u: dict[tuple[int, int], cp_model.IntVar] = {}
        self.aux: list[tuple[cp_model.IntVar, callable]] = []

    def build(self) -> None:
        self._rooms()
        self._staff()
        self._demand()
        self._waits()
        self._changes()
        variables = [v for v, _ in self.terms]
        coefficients = [c for _, c in self.terms]
        self.model.minimize(cp_model.LinearExpr.weighted_sum(variables, coefficients))

    def _cost(self, var, points: float) -> None:
        coefficient = round(points * COST_SCALE)
        if coefficient:
            self.terms.append((var, coefficient))

    def _rooms(self) -> None:
        inst = self.inst
        by_key: dict[int, list[int]] = {}
        for o in self.options:
            size = inst.classes[inst.option_class[o]].size
            self.x[o] = self.model.new_int_var(0, size, f"x{o}")
            self._cost(self.x[o], inst.option_cost[o])
            by_key.setdefault(int(inst.option_class_time[o]), []).append(o)
        for options in by_key.values():
            if len(options) > 1:
                size = inst.classes[inst.option_class[options[0]]].size
                self.model.add(sum(self.x[o] for o in options) <= size)
        self.by_key = by_key

    def _staff(self) -> None:
        inst, scope = self.inst, self.scope
        flows_of_need: dict[int, list[int]] = {}
        by_group: dict[int, list[int]] = {}
        by_group_time: dict[tuple[int, int], list[int]] = {}
        for f in self.flows:
            g, j = int(inst.flow_group[f]), int(inst.flow_need[f])
            t = inst.needs[j].t
            cap = int(min(inst.group_available[g, t], scope.session_cap[g, t]))
            self.z[f] = self.model.new_int_var(0, max(0, cap), f"z{f}")
            flows_of_need.setdefault(j, []).append(f)
            by_group.setdefault(g, []).append(f)
            by_group_time.setdefault((g, t), []).append(f)
        needs: dict[int, list[tuple[int, int, int]]] = {}
        for o in self.options:
            needs.setdefault(int(inst.option_crew_need[o]), []).append(
                (o, int(inst.option_crew[o]), 1))
            if inst.option_rad_need[o] >= 0:
                rooms = round(1 / inst.option_rad_share[o])
                needs.setdefault(int(inst.option_rad_need[o]), []).append((o, 1, rooms))
        for j, entries in needs.items():
            self._cover(entries, flows_of_need.get(j, []))
        for (g, t), flows in by_group_time.items():
            if len(flows) > 1:
                self.model.add(sum(self.z[f] for f in flows) <= int(scope.session_cap[g, t]))
        for g, flows in by_group.items():
            self._weekly(g, flows)

    def _cover(self, entries: list[tuple[int, int, int]], flows: list[int]) -> None:
        """One row per staff need: Σ (people / rooms) × rooms ≤ people, each entry giving
        people per room as a fraction: a crew (crew / 1) or a radiologist's share (1 / rooms
        one radiologist covers). A radiologist need may hold both kinds at once (a
        radiologist-crewed list, or one that is also radiologist-led), so the row is scaled by
        the denominators' least common multiple L: Σ L × crew × x + Σ (L / r) × x ≤ L × people.
        """
        people = sum(self.z[f] for f in flows)
        lcm = math.lcm(*(den for _, _, den in entries))
        self.model.add(sum((lcm * num // den) * self.x[o] for o, num, den in entries)
                       <= lcm * people)

    def _weekly(self, g: int, flows: list[int]) -> None:
        inst, scope = self.inst, self.scope
        day = [f for f in flows if not inst.time_offpeak[inst.needs[inst.flow_need[f]].t]]
        contracted = int(scope.daytime_cap[g])
        if day:
            self.model.add(sum(self.z[f] for f in day) <= contracted)
        total = sum(self.z[f] for f in flows)
        self.model.add(total <= int(scope.total_cap[g]))
        overtime_cap = max(0, int(scope.total_cap[g]) - contracted)
        if overtime_cap:
            overtime = self.model.new_int_var(0, overtime_cap, f"o{g}")
            self.model.add(overtime >= total - contracted)
            self._cost(overtime, inst.weights.overtime_per_staff_session)
            self.aux.append((overtime, lambda sol, fl=flows, c=contracted:
                             max(0, int(sum(sol.z[f] for f in fl)) - c)))
        else:
            self.model.add(total <= contracted)

    def _demand(self) -> None:
        inst = self.inst
        cells = inst.demand
        wt = inst.weights
        arcs_of_cell: dict[int, list[int]] = {}
        arcs_of_sf: dict[int, list[int]] = {}
        for a in self.arcs:
            total = int(cells.totals[cells.arc_cell[a]])
            self.w[a] = self.model.new_int_var(0, total, f"w{a}")
            self._cost(self.w[a], cells.arc_km[a] * wt.travel_per_km)
            arcs_of_cell.setdefault(int(cells.arc_cell[a]), []).append(a)
            arcs_of_sf.setdefault(int(cells.arc_sf[a]), []).append(a)
        for c in self.cells:
            for q, count in enumerate(cells.counts[c]):
                if count:
                    self.u[(c, q)] = self.model.new_int_var(0, int(count), f"u{c}_{q}")
                    self._cost(self.u[(c, q)], PRIORITY_WEIGHTS[q] * wt.unmet_per_exam)
            unmet = [self.u[(c, q)] for q in range(cells.counts.shape[1]) if (c, q) in self.u]
            served = [self.w[a] for a in arcs_of_cell.get(int(c), [])]
            self.model.add(sum(served) + sum(unmet)
                           == int(cells.totals[c]) - int(self.scope.served_outside[c]))
        for sf, arcs in arcs_of_sf.items():
            options = [(o, n) for o, n in cells.sf_options[sf] if o in self.x]
            self.model.add(sum(self.w[a] for a in arcs) <= sum(n * self.x[o] for o, n in options))

    def _waits(self) -> None:
        for modality in self.scope.modalities:
            self._longest_wait(modality)

    def _longest_wait(self, modality: Modality) -> None:
        """Longest projected wait of the modality; cells outside the scope add their fixed
        backlog."""
        cells = self.inst.demand
        groups = cells.home_groups(modality)
        if not groups:
            return
        in_scope = set(self.cells.tolist())
        longest = self.model.new_int_var(0, WAIT_SCALE, f"longest_wait_{modality}")
        for _, homed, demand in groups:
            backlog = [self.u[(c, q)] for c in homed for q in range(cells.counts.shape[1])
                       if (c, q) in self.u]
            fixed = int(sum(self.scope.unmet_outside[c] for c in homed if c not in in_scope))
            self.model.add(WAIT_SCALE * (sum(backlog) + fixed) <= int(demand) * longest)
        self._cost(longest, self.inst.weights.imbalance_per_unit / WAIT_SCALE)

        def hint(sol):
            shares = [sum(sol.unmet[c].sum() for c in homed) / d for _, homed, d in groups]
            return math.ceil(WAIT_SCALE * max(shares) - 1e-9)
        self.aux.append((longest, hint))

    def _changes(self) -> None:
        last = self.inst.last_week
        if not last.given:
            return
        half = 0.5 * self.inst.weights.change_per_room_session
        for o, var in self.x.items():
            before = int(last.option_last[o])
            if before == 0:
                self._cost(var, half)
                continue
            size = self.inst.classes[self.inst.option_class[o]].size
            diff = self.model.new_int_var(0, size + before, f"d{o}")
            self.model.add(diff >= var - before)
            self.model.add(diff >= before - var)
            self._cost(diff, half)
            self.aux.append((diff, lambda sol, o=o, b=before: abs(int(sol.x[o]) - b)))
        for key, options in self.by_key.items():
            before = last.class_time_open.get(key, 0)
            opened = sum(self.x[o] for o in options)
            if before == 0:
                for o in options:
                    self._cost(self.x[o], half)
                continue
            diff = self.model.new_int_var(0, 10_000, f"c{key}")
            self.model.add(diff >= opened - before)
            self.model.add(diff >= before - opened)
            self._cost(diff, half)
            self.aux.append((diff, lambda sol, opts=options, b=before:
                             abs(int(sum(sol.x[o] for o in opts)) - b)))

    def add_hint(self, hint: Solution) -> None:
        for o, var in self.x.items():
            self.model.add_hint(var, int(hint.x[o]))
        for f, var in self.z.items():
            self.model.add_hint(var, int(hint.z[f]))
        for a, var in self.w.items():
            self.model.add_hint(var, int(hint.w[a]))
        for (c, q), var in self.u.items():
            self.model.add_hint(var, int(hint.unmet[c, q]))
        for var, value in self.aux:
            self.model.add_hint(var, int(value(hint)))


def solve_modality(inst: Instance, modality: Modality, split: StaffSplit, hint: Solution,
                   deadline: float, seed: int = 0, workers: int = 2) -> ModalityResult:
    """Best plan found for one modality by the deadline (a perf_counter time, model building
    included); status says how it ended."""
    return solve_scope(inst, modality_scope(inst, modality, split), hint, deadline, seed,
                       workers)


def solve_scope(inst: Instance, scope: Scope, hint: Solution, deadline: float, seed: int = 0,
                workers: int = 2) -> ModalityResult:
    """Best plan found for a sub-model (a modality, or a site with the rest fixed)."""
    model = _Model(inst, scope)
    model.build()
    model.add_hint(hint)
    time_limit_s = deadline - time.perf_counter()
    if time_limit_s <= 0.05:
        return ModalityResult(scope.name, "NOT_RUN (no time left after building)", {}, {}, {}, {})
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.relative_gap_limit = 0.001
    watchdog = threading.Timer(max(0.01, time_limit_s) + GRACE_S, solver.stop_search)
    watchdog.start()
    try:
        status = solver.solve(model.model)
    finally:
        watchdog.cancel()
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ModalityResult(scope.name, solver.status_name(status), {}, {}, {}, {})
    return ModalityResult(
        scope.name, solver.status_name(status),
        x={o: int(solver.value(v)) for o, v in model.x.items()},
        z={f: int(solver.value(v)) for f, v in model.z.items()},
        w={a: int(solver.value(v)) for a, v in model.w.items()},
        unmet={key: int(solver.value(v)) for key, v in model.u.items()},
    )


def merge(base: Solution, results: list[ModalityResult]) -> Solution:
    """The base plan with each solved modality's part replaced."""
    merged = Solution("cp-sat", base.x.copy(), base.z.copy(), base.w.copy(), base.unmet.copy())
    for result in results:
        for o, value in result.x.items():
            merged.x[o] = value
        for f, value in result.z.items():
            merged.z[f] = value
        for a, value in result.w.items():
            merged.w[a] = value
        for (c, q), value in result.unmet.items():
            merged.unmet[c, q] = value
    return merged
