"""`cdip bench simulate-calibration`: the baseline calibrated to the network's spread of
waits, then the narrowing of that spread measured. A repeatable procedure:

1. `calibration.calibrate` on the reference network under today's policies (each trust
   books its own, today's diaries, no backfill): capacity per trust such that the trusts'
   shares waiting 6+ weeks run from a few per cent (best) to about half (worst);
2. replications of that calibrated baseline against network choice + solver diaries +
   backfill on the same calibrated network (same seeds: paired), the spread between trusts
   (range and coefficient of variation of their 6+ week shares) with 95 % intervals.

The capacities found are printed so `simulations.whatif.reference_calibration` can be
refreshed from them (the test of the calibrated baseline reads that module)."""

from __future__ import annotations

import os
import time

from cdip_bench.simulate import BENCH_MONDAY
from domain.network import load_reference_network
from domain.session_templates import session_templates
from simulations.whatif.calibration import Calibration, calibrate, with_capacity
from simulations.whatif.experiment import RunPlan, run_replications
from simulations.whatif.reference_calibration import (
    REFERENCE_CAPACITY,
    REFERENCE_WARMUP_WEEKS,
    REFERENCE_WEEKS,
)
from simulations.whatif.scenario import parse_scenario
from simulations.whatif.scenario_inputs import compile_inputs
from simulations.whatif.start_state import reference_start_state
from simulations.whatif.summary import compare

NARROWING = """name: network choice, solver diaries, backfill
policies: {booking: network, diaries: solver, backfill: true, solver_seconds: 8}
"""
SPREAD_MEASURES = ("trust_spread_6_plus_range", "trust_spread_6_plus_cv")


def simulate_calibration_benchmark(weeks: int = REFERENCE_WEEKS,
                                   warmup: int = REFERENCE_WARMUP_WEEKS, iterations: int = 8,
                                   replications: int = 5, workers: int = 2, seed: int = 0,
                                   recalibrate: bool = True) -> dict:
    """Calibrate (`iterations` bisection steps of one `weeks`-week run), then compare.
    Without `recalibrate`, the kept REFERENCE_CAPACITY is compared (its weeks only)."""
    if not 10 <= weeks <= 104 or not 0 <= warmup < weeks - 4:
        raise ValueError("--weeks must be 10..104 and --warmup 0..weeks-5")
    if not 1 <= iterations <= 20 or not 2 <= replications <= 100 or not 0 <= workers <= 8:
        raise ValueError("--iterations 1..20, --replications 2..100, --workers 0..8")
    if not recalibrate and (weeks, warmup) != (REFERENCE_WEEKS, REFERENCE_WARMUP_WEEKS):
        raise ValueError(f"--no-recalibrate uses the kept calibration: --weeks "
                         f"{REFERENCE_WEEKS} --warmup {REFERENCE_WARMUP_WEEKS}")
    load_before = os.getloadavg()[0]
    start = reference_start_state(load_reference_network(), session_templates(), BENCH_MONDAY)
    scenario = parse_scenario(NARROWING)
    plan = RunPlan(weeks=weeks, replications=replications, warmup_weeks=warmup, seed=seed)
    today = compile_inputs(start, scenario, baseline=True, weeks=weeks, warmup_weeks=warmup)
    started = time.perf_counter()
    calibration = calibrate(today, iterations=iterations, seed=seed) if recalibrate else None
    calibrate_s = time.perf_counter() - started
    capacity = calibration.capacity_by_trust() if calibration else REFERENCE_CAPACITY
    changed = compile_inputs(start, scenario, baseline=False, weeks=weeks, warmup_weeks=warmup)
    arms = [with_capacity(today, capacity), with_capacity(changed, capacity, remix=False)]
    started = time.perf_counter()
    results = run_replications(arms, plan.seeds(), workers=workers)
    table = compare(results[0], results[1], today.world)
    shares = table[table["measure"] == "share_6_plus_weeks"]
    by_trust = shares[shares["group"].str.startswith("trust:")]
    return {
        "weeks": weeks, "warmup_weeks": warmup, "replications": replications,
        "calibration_seconds": round(calibrate_s, 1),
        "replications_seconds": round(time.perf_counter() - started, 1),
        "capacity_by_trust": capacity,
        **(_calibration_figures(calibration) if calibration else {}),
        "baseline_share_6_plus_by_trust": {
            row["group"].split(":", 1)[1]: _interval(row, "baseline")
            for row in by_trust.to_dict("records")},
        "scenario_share_6_plus_by_trust": {
            row["group"].split(":", 1)[1]: _interval(row, "scenario")
            for row in by_trust.to_dict("records")},
        **{f"{arm}_{measure}": _interval(row, arm)
           for row in table[table["measure"].isin(SPREAD_MEASURES)].to_dict("records")
           for measure in [row["measure"]] for arm in ("baseline", "scenario", "difference")},
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _calibration_figures(calibration: Calibration) -> dict:
    trusts = calibration.trust_ids
    return {"target_share_6_plus_by_trust": dict(zip(
                trusts, [round(t, 3) for t in calibration.target], strict=True)),
            "calibration_share_6_plus_by_trust": dict(zip(
                trusts, [round(a, 3) for a in calibration.achieved], strict=True))}


def _interval(row: dict, arm: str) -> list[float]:
    """[mean, lo, hi] of one arm's figure."""
    return [round(float(row[f"{arm}_{k}"]), 4) for k in ("mean", "lo", "hi")]
