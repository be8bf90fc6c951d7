"""CP-SAT improvement of a whole plan, in exact sub-models with everything else fixed:
site neighbourhoods first (all of a site's rooms and staff, and the demand that may travel
there: where radiologist-led rooms are brought together and staff traded across modalities),
then, with time left, one model per modality within staff shares built around the plan."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from optimiser.evaluation import Solution, metrics
from optimiser.instance import MODALITIES, Instance
from optimiser.modality_model import merge, solve_modality, solve_scope
from optimiser.scopes import site_scope
from optimiser.staff_split import around_plan

SITE_LIMIT_S = 1.5
"""CP-SAT time per site neighbourhood; small sites finish (optimal) well within it."""
MODALITY_POLISH_MIN_S = 8.0

Offer = Callable[[Solution], Solution]
"""Records a plan with the caller and returns it as kept (idle off-peak sessions closed)."""


def site_search(inst: Instance, start: Solution, offer: Offer, deadline: float, seed: int,
                workers: int, log: list[str]) -> Solution:
    """Passes over the sites, keeping each improvement, until a pass improves nothing or time
    runs out. The first pass goes smallest site first (small neighbourhoods solve to optimality
    at once); later passes go where the last one gained most."""
    current, objective = start, metrics(inst, start).objective
    class_site = np.array([c.site for c in inst.classes], dtype=int)
    sizes = np.bincount(class_site[inst.option_class], minlength=len(inst.sites))
    order = [int(s) for s in np.argsort(sizes, kind="stable") if sizes[s] > 0]
    for number in range(1, 100):
        improved = 0
        gains: dict[int, float] = {}
        for site in order:
            left = deadline - time.perf_counter()
            if left < 0.3:
                log.append(f"site search: pass {number} stopped by the time limit")
                return current
            result = solve_scope(inst, site_scope(inst, site, current), current,
                                 time.perf_counter() + min(SITE_LIMIT_S, left), seed, workers)
            if not result.x:
                continue
            candidate = merge(current, [result])
            value = metrics(inst, candidate).objective
            if value < objective - 1e-6:
                current = offer(candidate)
                gains[site] = objective - metrics(inst, current).objective
                objective -= gains[site]
                improved += 1
        log.append(f"site search: pass {number} improved {improved} sites")
        if not improved:
            break
        order.sort(key=lambda site: -gains.get(site, 0.0))
    return current


def modality_polish(inst: Instance, start: Solution, split, lp_z: np.ndarray, offer: Offer,
                    deadline: float, seed: int, workers: int, log: list[str]) -> Solution:
    """One CP-SAT model per modality, each within staff shares that contain the plan."""
    if deadline - time.perf_counter() < MODALITY_POLISH_MIN_S:
        return start
    shares = around_plan(inst, split, start.z, lp_z)
    sizes = {m: len(inst.options_of(m)) + len(inst.demand.cells_of(m)) * 10 for m in MODALITIES}
    waiting = sorted((m for m in MODALITIES if sizes[m] > 0), key=lambda m: -sizes[m])
    results = []
    while waiting:
        modality = waiting.pop(0)
        left = deadline - time.perf_counter()
        share = left * sizes[modality] / (sizes[modality] + sum(sizes[m] for m in waiting))
        if share < 0.5:
            log.append(f"CP-SAT {modality}: skipped, {left:.1f}s left")
            continue
        result = solve_modality(inst, modality, shares, start, time.perf_counter() + share,
                                seed=seed, workers=workers)
        log.append(f"CP-SAT {modality}: {result.status}")
        if result.x:
            results.append(result)
    if not results:
        return start
    merged = merge(start, results)
    if metrics(inst, merged).objective < metrics(inst, start).objective - 1e-6:
        return offer(merged)
    return start
