"""Site neighbourhoods solved as exact MIPs (HiGHS) with the rest of the plan fixed.

The neighbourhood of a set of sites is every room-session at those sites, their staff (staff
belong to one site, so nothing is split), their overtime, every booking that may go to them and
the unmet demand of the cells those bookings come from; everything else keeps the current plan's
values and moves to the right-hand side. The model is the network model of `relaxation` (the
same rows our bound is the LP of, cuts included: they hold for whole crews), so its LP is tight
and HiGHS's LP-based search finds in a second or two what CP-SAT's search does not find in ten
(measured on the benchmark week: 35,655 points on one large site in 3 s, against CP-SAT's 20,803
in 20 s). HiGHS starts from the plan of the moment (`highs_mip`), so a neighbourhood it cannot
finish in its time still comes back with what it found.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from optimiser.evaluation import Solution, metrics
from optimiser.highs_mip import MipArrays, solve_mip
from optimiser.instance import Instance
from optimiser.model_points import plan_point, point_plan, whole_bookings
from optimiser.relaxation import NetworkModel

RELATIVE_GAP = 1e-5
"""HiGHS stops a neighbourhood this close to its own proof of optimality."""


@dataclass
class NeighbourhoodResult:
    solution: Solution | None
    """The plan with the neighbourhood re-solved; None when HiGHS found nothing whole."""
    optimal: bool
    """Proved optimal for the neighbourhood (nothing better exists with the rest fixed)."""
    status: str


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
    perf_counter time), starting from `plan` (so never worse than it)."""
    v = plan_point(inst, model, plan)
    free = free_columns(inst, model, sites)
    cols = np.flatnonzero(free)
    fixed = ~free
    shift = model.matrix[:, fixed] @ v[fixed]
    sub = model.matrix[:, cols].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    lay = model.layout
    point, status, optimal = v.copy(), "not run: no time left", False
    for bookings_whole in (False, True):
        time_limit = deadline - time.perf_counter()
        if time_limit <= 0.05 or len(cols) == 0:
            return NeighbourhoodResult(None, False, status)
        integer = model.integer.copy()
        integer[lay.w:lay.big_w] |= bookings_whole
        arrays = MipArrays.of(model.cost[cols], model.lower[cols], model.upper[cols], sub[rows],
                              model.row_lower[rows] - shift[rows],
                              model.row_upper[rows] - shift[rows], integer[cols])
        answer = solve_mip(arrays, v[cols], time_limit, mip_rel_gap=RELATIVE_GAP)
        status = answer.status
        if answer.point is None:
            return NeighbourhoodResult(None, False, status)
        point[cols] = answer.point
        optimal = answer.optimal
        if whole_bookings(model, point):
            break
        status = f"{status} (bookings not whole: solved again with whole bookings)"
    else:
        return NeighbourhoodResult(None, False, status)
    return NeighbourhoodResult(point_plan(inst, model, point, "site-mip"), optimal, status)


SITE_LIMIT_S = 3.0
"""HiGHS time per site neighbourhood: small sites are proved optimal well within it."""


class PlansFromElsewhere(Protocol):
    """Another search working on the whole plan meanwhile (the network MIP)."""

    @property
    def running(self) -> bool: ...

    def arrived(self, wait_s: float = 0.0) -> Solution | None:
        """The best plan it found since last asked (already offered), waiting up to `wait_s`
        for one."""


def site_mip_search(inst: Instance, model: NetworkModel, start: Solution, offer, deadline: float,
                    log: list[str], workers: int = 2,
                    elsewhere: PlansFromElsewhere | None = None) -> Solution:
    """Site neighbourhoods, smallest site first, then where the last pass gained most, until
    every site is settled (proved optimal since anything it shares demand with changed), a pass
    gains nothing, or time runs out. With two workers two sites that share no demand are
    solved at once (HiGHS lets go of the GIL), each from the plan as it was when it started:
    nothing the other can change is in its model, so each answer is grafted onto the plan of
    the moment. Every plan kept goes through `offer`, which returns it as kept. A better plan
    from `elsewhere` replaces the plan of the moment (answers still running from the old one
    are dropped) and unsettles every site; while `elsewhere` is running, a search that can
    gain nothing more waits for it."""
    search = _SiteSearch(inst, model, start, offer, log, elsewhere)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        while search.step(pool, max(1, workers), deadline):
            pass
    return search.current


class _SiteSearch:
    def __init__(self, inst: Instance, model: NetworkModel, start: Solution, offer,
                 log: list[str], elsewhere: PlansFromElsewhere | None) -> None:
        self.inst, self.model, self.offer, self.log, self.elsewhere = (inst, model, offer, log,
                                                                       elsewhere)
        self.current, self.objective = start, metrics(inst, start).objective
        class_site = np.array([c.site for c in inst.classes], dtype=int)
        sizes = np.bincount(class_site[inst.option_class], minlength=len(inst.sites))
        self.order = [int(s) for s in np.argsort(sizes, kind="stable") if sizes[s] > 0]
        self.sharing = _sites_sharing_demand(inst)
        self.settled: set[int] = set()
        self.gains: dict[int, float] = {}
        self.queue = list(self.order)
        self.passes = 1
        self.generation = 0
        self.running: dict[Future, tuple[int, int]] = {}

    def step(self, pool: ThreadPoolExecutor, workers: int, deadline: float) -> bool:
        """Start what may start, take in what ended; False when the search is over."""
        self._adopt(0.0)
        if not self.queue and not self.running and not self._next_pass(deadline):
            return False
        self._start(pool, workers, deadline)
        if not self.running:
            if self.queue:
                self.log.append(f"site MIP: pass {self.passes} stopped by the time limit, "
                                f"{len(self.settled)} of {len(self.order)} sites settled")
                return False
            return True
        done, _ = wait(self.running, return_when=FIRST_COMPLETED)
        for future in done:
            site, generation = self.running.pop(future)
            if generation == self.generation:
                self._take(site, future.result())
        return True

    def _next_pass(self, deadline: float) -> bool:
        """Another pass over the sites not settled, unless the last one changed nothing (then
        wait for a plan from elsewhere while it is running)."""
        self.log.append(f"site MIP: pass {self.passes} improved {len(self.gains)} sites, "
                        f"{len(self.settled)} of {len(self.order)} settled")
        left = deadline - time.perf_counter()
        stuck = len(self.settled) == len(self.order) or not self.gains
        if stuck and self.elsewhere is not None and self.elsewhere.running and left >= 0.3:
            stuck = not self._adopt(left - 0.3)
        if stuck or deadline - time.perf_counter() < 0.3:
            return False
        self.passes += 1
        self.queue = sorted((s for s in self.order if s not in self.settled),
                            key=lambda site: -self.gains.get(site, 0.0))
        self.gains = {}
        return True

    def _start(self, pool: ThreadPoolExecutor, workers: int, deadline: float) -> None:
        while len(self.running) < workers and deadline - time.perf_counter() >= 0.3:
            busy = [site for site, _ in self.running.values()]
            site = next((s for s in self.queue
                         if not any(s in self.sharing[r] for r in busy)), None)
            if site is None:
                return
            self.queue.remove(site)
            future = pool.submit(solve_neighbourhood, self.inst, self.model, self.current,
                                 np.array([site]),
                                 min(deadline, time.perf_counter() + SITE_LIMIT_S))
            self.running[future] = (site, self.generation)

    def _take(self, site: int, result: NeighbourhoodResult) -> None:
        if result.solution is not None:
            candidate = _graft(self.inst, self.current, result.solution, np.array([site]))
            if metrics(self.inst, candidate).objective < self.objective - 1e-6:
                self.gains[site] = self._keep(self.offer(candidate))
                self.settled -= self.sharing[site]
        if result.optimal:
            self.settled.add(site)

    def _keep(self, plan: Solution) -> float:
        value = metrics(self.inst, plan).objective
        gain, self.current, self.objective = self.objective - value, plan, value
        return gain

    def _adopt(self, wait_s: float) -> bool:
        """Take a better plan from elsewhere, if one arrived (waiting up to `wait_s`)."""
        if self.elsewhere is None:
            return False
        plan = self.elsewhere.arrived(wait_s)
        if plan is None or metrics(self.inst, plan).objective >= self.objective - 1e-6:
            return False
        self._keep(plan)
        self.generation += 1
        self.settled.clear()
        self.queue = [s for s in self.order if s not in self.queue] + self.queue
        self.log.append(f"site MIP: took the network MIP's plan ({self.objective:,.0f}); "
                        "every site unsettled")
        return True


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
