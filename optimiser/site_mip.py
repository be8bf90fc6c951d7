"""Site neighbourhoods solved as exact MIPs (HiGHS) with the rest of the plan fixed.

The neighbourhood of a set of sites is every room-session at those sites, their staff (staff
belong to one site, so nothing is split), their overtime, every booking that may go to them and
the unmet demand of the cells those bookings come from; everything else keeps the current plan's
values and moves to the right-hand side. The model is the network model of `relaxation` (the
same rows our bound is the LP of, cuts included: they hold for whole crews), so its LP is tight
and HiGHS's LP-based search finds in a second or two what CP-SAT's search does not find in ten
(measured on the benchmark week: 35,655 points on one large site in 3 s, against CP-SAT's 20,803
in 20 s). SciPy's HiGHS takes no MIP start, so an answer is kept only when it beats the plan.
(The `highspy` package, which does take one, cannot be used: it ships a libhighs.so.1 of its own
that clashes with the one OR-Tools loads.)
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from optimiser.evaluation import Solution, imbalance, metrics, staff_use_per_group
from optimiser.instance import MODALITIES, Instance
from optimiser.relaxation import NetworkModel

INTEGRAL = 1e-6
"""A booking or unmet value this close to a whole number is that number."""
RELATIVE_GAP = 1e-5
"""HiGHS stops a neighbourhood this close to its own proof of optimality."""


@dataclass
class NeighbourhoodResult:
    solution: Solution | None
    """The plan with the neighbourhood re-solved; None when HiGHS found nothing whole."""
    optimal: bool
    """Proved optimal for the neighbourhood (nothing better exists with the rest fixed)."""
    status: str


def plan_vector(inst: Instance, model: NetworkModel, plan: Solution) -> np.ndarray:
    """A plan as a point of the network model: rooms, people, bookings and unmet as they are;
    overtime, the longest waits and the change counts at the values the plan implies."""
    lay = model.layout
    v = np.zeros(lay.total)
    v[lay.x:lay.z] = plan.x
    v[lay.z:lay.o] = plan.z
    total, _ = staff_use_per_group(inst, plan.z.astype(float))
    v[lay.o:lay.w] = np.maximum(0.0, total - inst.group_contracted)
    v[lay.w:lay.u] = plan.w
    v[lay.u:lay.big_w] = plan.unmet.ravel()
    waits = imbalance(inst, plan.unmet)
    v[lay.big_w:lay.e] = [waits[m] for m in MODALITIES]
    last = inst.last_week
    if last.given:
        options = np.asarray(lay.changed_options, dtype=int)
        v[lay.e:lay.f] = np.abs(plan.x[options] - last.option_last[options])
        keys = inst.option_class_time
        for i, key in enumerate(lay.changed_keys):
            v[lay.f + i] = abs(int(plan.x[keys == key].sum()) - last.class_time_open[key])
    return v


@dataclass
class _Parts:
    """[option], [group], [arc], [cell]: what belongs to the neighbourhood of some sites."""

    option: np.ndarray
    group: np.ndarray
    arc: np.ndarray
    cell: np.ndarray


def _parts(inst: Instance, sites: np.ndarray) -> _Parts:
    cells = inst.demand
    class_site = np.array([c.site for c in inst.classes], dtype=int)
    site_ids = {inst.sites[s].site_id for s in sites}
    arc_in = np.isin(cells.arc_site, sites)
    cell_in = np.zeros(len(cells.cell_area), dtype=bool)
    cell_in[cells.arc_cell[arc_in]] = True
    return _Parts(np.isin(class_site[inst.option_class], sites),
                  np.array([g.site_id in site_ids for g in inst.groups], dtype=bool),
                  arc_in, cell_in)


def free_columns(inst: Instance, model: NetworkModel, sites: np.ndarray) -> np.ndarray:
    """[column] what the neighbourhood of these sites may change."""
    lay = model.layout
    cells = inst.demand
    parts = _parts(inst, sites)
    option_in, group_in, arc_in, cell_in = parts.option, parts.group, parts.arc, parts.cell
    class_site = np.array([c.site for c in inst.classes], dtype=int)
    free = np.zeros(lay.total, dtype=bool)
    free[lay.x:lay.z] = option_in
    free[lay.z:lay.o] = group_in[inst.flow_group]
    free[lay.o:lay.w] = group_in
    free[lay.w:lay.u] = arc_in
    free[lay.u:lay.big_w] = np.repeat(cell_in, cells.counts.shape[1])
    free[lay.big_w:lay.e] = True
    if inst.last_week.given:
        free[lay.e:lay.f] = option_in[np.asarray(lay.changed_options, dtype=int)]
        key_class = np.asarray(lay.changed_keys, dtype=int) // inst.n_times
        free[lay.f:lay.total] = np.isin(class_site[key_class], sites)
    return free


def solve_neighbourhood(inst: Instance, model: NetworkModel, plan: Solution, sites: np.ndarray,
                        deadline: float) -> NeighbourhoodResult:
    """The best plan that changes only the neighbourhood of `sites`, found by `deadline` (a
    perf_counter time), starting from `plan`."""
    v = plan_vector(inst, model, plan)
    free = free_columns(inst, model, sites)
    cols = np.flatnonzero(free)
    fixed = ~free
    shift = model.matrix[:, fixed] @ v[fixed]
    sub = model.matrix[:, cols].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[rows]
    bounds = Bounds(model.lower[cols], model.upper[cols])
    rows_fit = LinearConstraint(sub, model.row_lower[rows] - shift[rows],
                                model.row_upper[rows] - shift[rows])
    lay = model.layout
    point, status, optimal = v.copy(), "not run: no time left", False
    for whole_bookings in (False, True):
        time_limit = deadline - time.perf_counter()
        if time_limit <= 0.05 or len(cols) == 0:
            return NeighbourhoodResult(None, False, status)
        integer = model.integer.copy()
        integer[lay.w:lay.big_w] |= whole_bookings
        result = milp(model.cost[cols], integrality=integer[cols].astype(int), bounds=bounds,
                      constraints=[rows_fit],
                      options={"time_limit": time_limit, "mip_rel_gap": RELATIVE_GAP})
        status = result.message.split("(")[0].strip()
        if result.x is None:
            return NeighbourhoodResult(None, False, status)
        point[cols] = result.x
        optimal = result.status == 0
        bookings = point[lay.w:lay.big_w]
        if np.abs(bookings - np.round(bookings)).max(initial=0.0) <= INTEGRAL:
            break
        status = f"{status} (bookings not whole: solved again with whole bookings)"
    else:
        return NeighbourhoodResult(None, False, status)
    whole = np.round(point)
    cells = inst.demand
    solution = Solution("site-mip", whole[lay.x:lay.z].astype(int), whole[lay.z:lay.o].astype(int),
                        whole[lay.w:lay.u].astype(int),
                        whole[lay.u:lay.big_w].reshape(cells.counts.shape).astype(int))
    return NeighbourhoodResult(solution, optimal, status)


SITE_LIMIT_S = 3.0
"""HiGHS time per site neighbourhood: small sites are proved optimal well within it."""


def site_mip_search(inst: Instance, model: NetworkModel, start: Solution, offer, deadline: float,
                    log: list[str], workers: int = 2) -> Solution:
    """Site neighbourhoods, smallest site first, then where the last pass gained most, until
    every site is settled (proved optimal since anything it shares demand with changed) or time
    runs out. With two workers two sites that share no demand are solved at once (HiGHS lets
    go of the GIL), each from the plan as it was when it started: nothing the other can change
    is in its model, so each answer is grafted onto the plan of the moment. Every plan kept
    goes through `offer`, which returns it as kept."""
    current, objective = start, metrics(inst, start).objective
    class_site = np.array([c.site for c in inst.classes], dtype=int)
    sizes = np.bincount(class_site[inst.option_class], minlength=len(inst.sites))
    order = [int(s) for s in np.argsort(sizes, kind="stable") if sizes[s] > 0]
    sharing = _sites_sharing_demand(inst)
    settled: set[int] = set()
    gains: dict[int, float] = {}
    queue = list(order)
    passes = 1
    running: dict[Future, int] = {}
    with ThreadPoolExecutor(max(1, workers)) as pool:
        while True:
            if not queue and not running:
                log.append(f"site MIP: pass {passes} improved {len(gains)} sites, "
                           f"{len(settled)} of {len(order)} settled")
                if len(settled) == len(order) or deadline - time.perf_counter() < 0.3:
                    break
                passes += 1
                queue = sorted((s for s in order if s not in settled),
                               key=lambda site: -gains.get(site, 0.0))
                gains = {}
            while len(running) < max(1, workers) and deadline - time.perf_counter() >= 0.3:
                site = next((s for s in queue if not any(s in sharing[r]
                                                         for r in running.values())), None)
                if site is None:
                    break
                queue.remove(site)
                running[pool.submit(solve_neighbourhood, inst, model, current,
                                    np.array([site]),
                                    min(deadline, time.perf_counter() + SITE_LIMIT_S))] = site
            if not running:
                log.append(f"site MIP: pass {passes} stopped by the time limit, "
                           f"{len(settled)} of {len(order)} sites settled")
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                site = running.pop(future)
                result = future.result()
                if result.solution is not None:
                    candidate = _graft(inst, current, result.solution, np.array([site]))
                    value = metrics(inst, candidate).objective
                    if value < objective - 1e-6:
                        current = offer(candidate)
                        gains[site] = objective - metrics(inst, current).objective
                        objective -= gains[site]
                        settled -= sharing[site]
                if result.optimal:
                    settled.add(site)
    return current


def _graft(inst: Instance, plan: Solution, solved: Solution, sites: np.ndarray) -> Solution:
    """The plan with the neighbourhood of `sites` taken from `solved`."""
    parts = _parts(inst, sites)
    flows = parts.group[inst.flow_group]
    return Solution(solved.method, np.where(parts.option, solved.x, plan.x),
                    np.where(flows, solved.z, plan.z), np.where(parts.arc, solved.w, plan.w),
                    np.where(parts.cell[:, None], solved.unmet, plan.unmet))


def _sites_sharing_demand(inst: Instance) -> dict[int, set[int]]:
    """Site → the sites some demand cell may go to as well as to it (itself included)."""
    cells = inst.demand
    sites_of_cell: dict[int, set[int]] = {}
    for cell, site in zip(cells.arc_cell, cells.arc_site, strict=True):
        sites_of_cell.setdefault(int(cell), set()).add(int(site))
    sharing: dict[int, set[int]] = {s: {s} for s in range(len(inst.sites))}
    for sites in sites_of_cell.values():
        for site in sites:
            sharing[site] |= sites
    return sharing
