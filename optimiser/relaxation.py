"""The LP relaxation of the whole network's diary model (all modalities, shared staff), solved
with HiGHS. Its optimum is a valid lower bound on any plan's objective; staff-row cuts that
hold for whole crews tighten it. Its solution also guides rounding and the staff split.

Cuts (Chvátal–Gomory on staff rows): at a site and session, Σ crew × rooms ≤ staff of that role
available, so Σ ⌊crew/2⌋ × rooms ≤ ⌊available/2⌋ for whole rooms; the same per staff need, per
site and week (daytime within contracted sessions; all sessions within contracted + overtime).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from optimiser.demand_cells import PRIORITY_WEIGHTS
from optimiser.highs_mip import MipArrays
from optimiser.instance import MODALITIES, Instance

BOUND_METHOD = ("LP relaxation of the whole network model (HiGHS) with Chvátal–Gomory cuts on "
                "staff rows for whole two-person crews and whole radiologists")


@dataclass
class NetworkModel:
    """The whole network's diary model as one matrix: min cost · v subject to row_lower ≤ A v ≤
    row_upper and lower ≤ v ≤ upper, plus `constant`. Its LP is our bound; with `integer`
    columns whole it is the exact model that `site_mip` solves piece by piece."""

    layout: _Layout
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    matrix: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    """[column] whole rooms and people (x, z); bookings and unmet are left continuous (with
    whole rooms they come out whole; `site_mip` checks)."""
    constant: float

    def mip_arrays(self) -> MipArrays:
        """The model as HiGHS takes it (rooms and people whole)."""
        return MipArrays.of(self.cost, self.lower, self.upper, self.matrix, self.row_lower,
                            self.row_upper, self.integer, self.constant)


@dataclass
class Relaxation:
    bound: float | None
    x: np.ndarray
    z: np.ndarray
    w: np.ndarray
    seconds: float
    status: str
    model: NetworkModel | None = None


class _Rows:
    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[float] = []

    def add(self, cols, vals, rhs: float) -> None:
        cols = np.asarray(cols, dtype=int)
        self.rows.append(np.full(len(cols), len(self.rhs), dtype=int))
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape))
        self.rhs.append(float(rhs))

    def matrix(self, n_vars: int) -> tuple[sparse.csr_matrix, np.ndarray]:
        if not self.rhs:
            return sparse.csr_matrix((0, n_vars)), np.zeros(0)
        data = (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols)))
        return sparse.csr_matrix(data, shape=(len(self.rhs), n_vars)), np.array(self.rhs)


class _Layout:
    """Column offsets of each variable block."""

    def __init__(self, inst: Instance) -> None:
        last = inst.last_week
        self.n_x = len(inst.option_class)
        self.n_z = len(inst.flow_need)
        self.n_o = len(inst.groups)
        self.n_w = len(inst.demand.arc_cell)
        self.n_u = inst.demand.counts.size
        self.changed_options = np.flatnonzero(last.option_last > 0) if last.given else []
        self.changed_keys = sorted(last.class_time_open) if last.given else []
        sizes = [self.n_x, self.n_z, self.n_o, self.n_w, self.n_u, len(MODALITIES),
                 len(self.changed_options), len(self.changed_keys)]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        (self.x, self.z, self.o, self.w, self.u, self.big_w, self.e, self.f,
         self.total) = (int(s) for s in starts)


def network_model(inst: Instance) -> NetworkModel:
    """The whole network's diary model: the rows of rooms, staff, demand and change, our cuts,
    and the demand equalities (rows whose lower and upper bounds are equal)."""
    lay = _Layout(inst)
    cost, lower, upper = _objective_and_bounds(inst, lay)
    rows = _Rows()
    _room_rows(inst, lay, rows)
    _staff_rows(inst, lay, rows)
    _demand_rows(inst, lay, rows)
    _change_rows(inst, lay, rows)
    _crew_cuts(inst, lay, rows)
    _radiologist_cuts(inst, lay, rows)
    a_ub, b_ub = rows.matrix(lay.total)
    a_eq, b_eq = _demand_equalities(inst, lay)
    constant = 0.5 * inst.weights.change_per_room_session * inst.last_week.constant
    integer = np.zeros(lay.total, dtype=bool)
    integer[lay.x:lay.o] = True
    return NetworkModel(lay, cost, lower, upper, sparse.vstack([a_ub, a_eq]).tocsc(),
                        np.concatenate([np.full(len(b_ub), -np.inf), b_eq]),
                        np.concatenate([b_ub, b_eq]), integer, constant)


def solve_relaxation(inst: Instance, time_limit_s: float = 30.0,
                     model: NetworkModel | None = None) -> Relaxation:
    """The LP of the network model (built here unless given): our bound and the fractional
    plan that rounding and the staff split start from."""
    started = time.perf_counter()
    model = network_model(inst) if model is None else model
    lay = model.layout
    rows = model.matrix.tocsr()
    equal = model.row_lower == model.row_upper
    result = linprog(model.cost, A_ub=rows[~equal], b_ub=model.row_upper[~equal],
                     A_eq=rows[equal], b_eq=model.row_upper[equal],
                     bounds=np.column_stack([model.lower, model.upper]), method="highs-ds",
                     options={"time_limit": max(0.05, time_limit_s - (time.perf_counter()
                                                                       - started)),
                              "presolve": True})
    seconds = time.perf_counter() - started
    if result.status != 0 or result.x is None:
        empty = np.zeros(0)
        return Relaxation(None, empty, empty, empty, seconds, result.message)
    sol = result.x
    return Relaxation(float(result.fun) + model.constant, sol[lay.x:lay.z], sol[lay.z:lay.o],
                      sol[lay.w:lay.u], seconds, "optimal", model)


def _objective_and_bounds(inst: Instance, lay: _Layout):
    wt = inst.weights
    cost = np.zeros(lay.total)
    lower = np.zeros(lay.total)
    upper = np.full(lay.total, np.inf)
    half_change = 0.5 * wt.change_per_room_session
    cost[lay.x:lay.z] = inst.option_cost
    if inst.last_week.given:
        fresh = inst.last_week.option_last == 0
        cost[lay.x:lay.z] += half_change * fresh
        closed_last = np.array([key not in inst.last_week.class_time_open
                                for key in inst.option_class_time])
        cost[lay.x:lay.z] += half_change * closed_last
        cost[lay.e:lay.total] = half_change
    sizes = np.array([c.size for c in inst.classes], dtype=float)
    upper[lay.x:lay.z] = sizes[inst.option_class]
    flow_t = np.array([inst.needs[n].t for n in inst.flow_need], dtype=int)
    upper[lay.z:lay.o] = inst.group_available[inst.flow_group, flow_t]
    cost[lay.o:lay.w] = wt.overtime_per_staff_session
    upper[lay.o:lay.w] = inst.group_overtime
    cost[lay.w:lay.u] = inst.demand.arc_km * wt.travel_per_km
    cost[lay.u:lay.big_w] = (np.broadcast_to(PRIORITY_WEIGHTS, inst.demand.counts.shape).ravel()
                             * wt.unmet_per_exam)
    upper[lay.u:lay.big_w] = inst.demand.counts.ravel()
    cost[lay.big_w:lay.e] = wt.imbalance_per_unit
    return cost, lower, upper


def _room_rows(inst: Instance, lay: _Layout, rows: _Rows) -> None:
    keys = inst.option_class_time
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.diff(keys[order])) + 1
    for group in np.split(order, bounds):
        if len(group) > 1:
            rows.add(lay.x + group, 1.0, inst.classes[inst.option_class[group[0]]].size)


def _staff_rows(inst: Instance, lay: _Layout, rows: _Rows) -> None:
    crew_by_need: dict[int, list[tuple[int, float]]] = {}
    for option in range(lay.n_x):
        crew_by_need.setdefault(int(inst.option_crew_need[option]), []).append(
            (option, float(inst.option_crew[option])))
        if inst.option_rad_need[option] >= 0:
            crew_by_need.setdefault(int(inst.option_rad_need[option]), []).append(
                (option, float(inst.option_rad_share[option])))
    flows_by_need: dict[int, list[int]] = {}
    for flow, need in enumerate(inst.flow_need):
        flows_by_need.setdefault(int(need), []).append(flow)
    for need, entries in crew_by_need.items():
        cols = [lay.x + o for o, _ in entries] + [lay.z + f for f in flows_by_need[need]]
        vals = [c for _, c in entries] + [-1.0] * len(flows_by_need[need])
        rows.add(cols, vals, 0.0)
    flow_t = np.array([inst.needs[n].t for n in inst.flow_need], dtype=int)
    by_group_time: dict[tuple[int, int], list[int]] = {}
    for flow, (g, t) in enumerate(zip(inst.flow_group, flow_t, strict=True)):
        by_group_time.setdefault((int(g), int(t)), []).append(flow)
    for (g, t), flows in by_group_time.items():
        if len(flows) > 1:
            rows.add(lay.z + np.array(flows), 1.0, inst.group_available[g, t])
    for g in range(len(inst.groups)):
        flows = np.flatnonzero(inst.flow_group == g)
        if len(flows) == 0:
            continue
        day = flows[~inst.time_offpeak[flow_t[flows]]]
        if len(day):
            rows.add(lay.z + day, 1.0, inst.group_contracted[g])
        rows.add([*list(lay.z + flows), lay.o + g], [1.0] * len(flows) + [-1.0],
                 inst.group_contracted[g])


def _demand_rows(inst: Instance, lay: _Layout, rows: _Rows) -> None:
    cells = inst.demand
    arcs_by_sf: dict[int, list[int]] = {}
    for arc, sf in enumerate(cells.arc_sf):
        arcs_by_sf.setdefault(int(sf), []).append(arc)
    for sf, arcs in arcs_by_sf.items():
        entries = cells.sf_options[sf]
        cols = [lay.w + a for a in arcs] + [lay.x + o for o, _ in entries]
        rows.add(cols, [1.0] * len(arcs) + [-float(c) for _, c in entries], 0.0)
    n_priorities = cells.counts.shape[1]
    for m, modality in enumerate(MODALITIES):
        for _, homed, demand in cells.home_groups(modality):
            cols = (lay.u + homed[:, None] * n_priorities + np.arange(n_priorities)).ravel()
            rows.add([*list(cols), lay.big_w + m], [1.0 / demand] * len(cols) + [-1.0], 0.0)


def _demand_equalities(inst: Instance, lay: _Layout):
    cells = inst.demand
    n_cells, n_priorities = cells.counts.shape
    arc_rows = cells.arc_cell
    unmet_rows = np.repeat(np.arange(n_cells), n_priorities)
    data = np.ones(len(arc_rows) + len(unmet_rows))
    row_index = np.concatenate([arc_rows, unmet_rows])
    col_index = np.concatenate([lay.w + np.arange(lay.n_w), lay.u + np.arange(lay.n_u)])
    matrix = sparse.csr_matrix((data, (row_index, col_index)), shape=(n_cells, lay.total))
    return matrix, cells.totals.astype(float)


def _change_rows(inst: Instance, lay: _Layout, rows: _Rows) -> None:
    if not inst.last_week.given:
        return
    last = inst.last_week
    for i, option in enumerate(lay.changed_options):
        rows.add([lay.x + option, lay.e + i], [1.0, -1.0], last.option_last[option])
        rows.add([lay.x + option, lay.e + i], [-1.0, -1.0], -last.option_last[option])
    keys = inst.option_class_time
    for i, key in enumerate(lay.changed_keys):
        options = np.flatnonzero(keys == key)
        count = last.class_time_open[key]
        rows.add([*list(lay.x + options), lay.f + i], [1.0] * len(options) + [-1.0], count)
        rows.add([*list(lay.x + options), lay.f + i], [-1.0] * len(options) + [-1.0], -count)


def _crew_cuts(inst: Instance, lay: _Layout, rows: _Rows) -> None:
    """Whole crews: Σ ⌊crew/2⌋ rooms ≤ ⌊people/2⌋ per need, per site-session-role, and per
    site-role over the week (daytime and all sessions)."""
    halves = inst.option_crew // 2
    paired = np.flatnonzero(halves > 0)
    per_need: dict[int, list[int]] = {}
    per_site_time: dict[tuple, list[int]] = {}
    per_site: dict[tuple, list[int]] = {}
    for option in paired:
        need = inst.needs[inst.option_crew_need[option]]
        per_need.setdefault(int(inst.option_crew_need[option]), []).append(option)
        per_site_time.setdefault((need.site, need.t, need.role), []).append(option)
        per_site.setdefault((need.site, need.role), []).append(option)
    for need, options in per_need.items():
        people = inst.group_available[inst.need_groups[need], inst.needs[need].t].sum()
        rows.add(lay.x + np.array(options), halves[options], np.floor(people / 2))
    for (site, t, role), options in per_site_time.items():
        groups = _site_role_groups(inst, site, role)
        rows.add(lay.x + np.array(options), halves[options],
                 np.floor(inst.group_available[groups, t].sum() / 2))
    for (site, role), options in per_site.items():
        groups = _site_role_groups(inst, site, role)
        options = np.array(options)
        day = options[~inst.time_offpeak[inst.option_t[options]]]
        rows.add(lay.x + day, halves[day], np.floor(inst.group_contracted[groups].sum() / 2))
        total = inst.group_contracted[groups].sum() + inst.group_overtime[groups].sum()
        rows.add(lay.x + options, halves[options], np.floor(total / 2))


def _radiologist_cuts(inst: Instance, lay: _Layout, rows: _Rows) -> None:
    """Whole radiologists: where a site-session has no more radiologist-led rooms (N) than
    any of them lets one radiologist cover, one radiologist is needed as soon as one room
    runs, so Σ rooms / N ≤ radiologists."""
    per_need: dict[int, list[int]] = {}
    for option in np.flatnonzero(inst.option_rad_need >= 0):
        per_need.setdefault(int(inst.option_rad_need[option]), []).append(int(option))
    flows_by_need: dict[int, list[int]] = {}
    for flow, need in enumerate(inst.flow_need):
        flows_by_need.setdefault(int(need), []).append(flow)
    for need, options in per_need.items():
        rooms = sum(inst.classes[c].size for c in {int(inst.option_class[o]) for o in options})
        covers = min(round(1 / inst.option_rad_share[o]) for o in options)
        if rooms < covers:
            flows = flows_by_need[need]
            rows.add([lay.x + o for o in options] + [lay.z + f for f in flows],
                     [1.0 / rooms] * len(options) + [-1.0] * len(flows), 0.0)


def _site_role_groups(inst: Instance, site: int, role) -> list[int]:
    site_id = inst.sites[site].site_id
    return [g for g, group in enumerate(inst.groups)
            if group.site_id == site_id and group.role is role]
