"""`cdip bench simulate`: the what-if engine's speed and validity. One replication of the
whole reference network (47 sites, 797 rooms, ~93k referrals a week, ~350k exams attended a
month) for 52 weeks, timed (wall clock, and the process's CPU time, which a shared machine's
load does not inflate); the single-queue check against Erlang C; replications per minute on
a local dask cluster of one and of two worker processes, both started in this same run and
given the same whole-network replications (52 weeks by default) in alternating rounds, so
the ratio of the two is measured on the same machine at the same time.

Quiet figures: `cdip bench simulate --json` (defaults: 52 weeks, 4 replications of 52 weeks
a round, 1 round) on an otherwise idle 2-core machine."""

from __future__ import annotations

import os
import time
from datetime import date

import numpy as np

from domain.network import load_reference_network
from domain.session_templates import session_templates
from simulations.whatif.engine import simulate
from simulations.whatif.experiment import run_on_client
from simulations.whatif.mmc_check import mmc_check
from simulations.whatif.scenario import parse_scenario
from simulations.whatif.scenario_inputs import compile_inputs
from simulations.whatif.start_state import reference_start_state

BENCH_MONDAY = date(2027, 1, 4)
YEAR_WEEKS = 52


def simulate_benchmark(weeks: int = YEAR_WEEKS, warmup: int = 8, replications: int = 4,
                       replication_weeks: int = YEAR_WEEKS, rounds: int = 1,
                       seed: int = 0) -> dict:
    """A network-year (or `weeks`) of one replication; Erlang C; replications of
    `replication_weeks` weeks per minute with 1 and 2 workers, in alternating rounds."""
    if not 1 <= weeks <= 520 or not 0 <= warmup < weeks:
        raise ValueError("--weeks must be 1..520 and --warmup 0..weeks-1")
    if not 1 <= replications <= 100 or not 2 <= replication_weeks <= 104:
        raise ValueError("--replications must be 1..100 and --replication-weeks 2..104")
    if not 1 <= rounds <= 10:
        raise ValueError("--rounds must be 1..10")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    start = reference_start_state(load_reference_network(), session_templates(), BENCH_MONDAY)
    scenario = parse_scenario("name: bench baseline")
    inputs = compile_inputs(start, scenario, baseline=True, weeks=weeks, warmup_weeks=warmup)
    prepare_s = time.perf_counter() - started
    result = simulate(inputs, seed)
    check = mmc_check(seed=seed)
    replicated = compile_inputs(start, scenario, baseline=True, weeks=replication_weeks,
                                warmup_weeks=min(warmup, replication_weeks - 1))
    warm = compile_inputs(start, scenario, baseline=True, weeks=2, warmup_weeks=1)
    per_minute, cpu = _scaling(replicated, warm, replications, rounds, seed)
    ratios = [two / one for one, two in zip(per_minute[1], per_minute[2], strict=True)]
    return {
        "weeks": weeks, "sites": inputs.world.n_sites, "rooms": len(inputs.room_site),
        "trusts": len(inputs.world.trust_ids),
        "referrals_per_week": round(float(inputs.world.weekly_rate.sum())),
        "prepare_seconds": round(prepare_s, 2),
        "replication_seconds": round(result.seconds, 2),
        "seconds_per_network_year": round(result.seconds * YEAR_WEEKS / weeks, 2),
        "cpu_seconds_per_network_year": round(result.cpu_seconds * YEAR_WEEKS / weeks, 2),
        "events": result.events, "events_per_s": round(result.events / result.seconds),
        "attended_per_year": round(float(result.attended.sum()) * YEAR_WEEKS
                                   / (weeks - warmup)),
        "attended_per_month": round(float(result.attended.sum()) * YEAR_WEEKS / 12
                                    / (weeks - warmup)),
        "mmc_relative_error": round(check.relative_error, 4),
        "mmc_simulated_wait": round(check.simulated_wait, 4),
        "mmc_erlang_c_wait": round(check.erlang_c_wait, 4),
        "replication_weeks": replication_weeks, "replications": replications,
        "replications_per_minute_1_worker": [round(v, 3) for v in per_minute[1]],
        "replications_per_minute_2_workers": [round(v, 3) for v in per_minute[2]],
        "speedup_2_vs_1_worker": round(float(np.median(ratios)), 3),
        "cpu_seconds_per_replication_1_worker": round(float(np.mean(cpu[1])), 2),
        "cpu_seconds_per_replication_2_workers": round(float(np.mean(cpu[2])), 2),
        "cpu_count": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _scaling(inputs, warm, replications: int, rounds: int,
             seed: int) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
    """Replications of `inputs` per minute on a local cluster of 1 and of 2 worker
    processes, both started and warmed first (imports, a short `warm` run), then timed in
    alternating rounds so both see the same machine; and each replication's CPU seconds in
    its worker (the same with 2 workers as with 1 means the workers do not slow each other:
    on an idle machine the speedup is then close to 2)."""
    from dask.distributed import Client, LocalCluster

    rates: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    with (LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                       dashboard_address=None) as one,
          LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=None) as two,
          Client(one) as client_one, Client(two) as client_two):
        clients = {1: client_one, 2: client_two}
        for client in clients.values():
            run_on_client(client, [warm], [seed, seed + 1])  # workers import the engine
        for number in range(rounds):
            for workers, client in clients.items():
                first = seed + 10 + number * replications
                started = time.perf_counter()
                done = run_on_client(client, [inputs], list(range(first, first + replications)))
                rates[workers].append(replications / (time.perf_counter() - started) * 60)
                cpu[workers] += [result.cpu_seconds for result in done[0]]
    return rates, cpu
