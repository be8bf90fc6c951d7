"""Replications of a scenario and of its baseline, with common random numbers (replication i
of both uses the same seed), run in this process or in parallel on a dask.distributed cluster:
a local one by default, or the scheduler at an address, so a sweep can use many machines.
Replication seeds are spawned from the experiment's seed (numpy SeedSequence)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulations.whatif.engine import simulate
from simulations.whatif.inputs import Inputs
from simulations.whatif.replication import ReplicationResult
from simulations.whatif.scenario import Scenario
from simulations.whatif.scenario_inputs import compile_inputs
from simulations.whatif.start_state import StartState

Progress = Callable[[int, int], None]
"""Told (replications done, replications in all) as each one finishes."""


@dataclass(frozen=True)
class RunPlan:
    weeks: int = 52
    replications: int = 10
    warmup_weeks: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= 520:
            raise ValueError(f"weeks: {self.weeks} is not 1 to 520")
        if not 0 <= self.warmup_weeks < self.weeks:
            raise ValueError(f"warmup_weeks: {self.warmup_weeks} must be 0 to weeks - 1")
        if not 1 <= self.replications <= 1000:
            raise ValueError(f"replications: {self.replications} is not 1 to 1000")

    def seeds(self) -> list[int]:
        children = np.random.SeedSequence(self.seed).spawn(self.replications)
        return [int(child.generate_state(1)[0]) for child in children]


@dataclass(frozen=True)
class Experiment:
    scenario: Scenario
    plan: RunPlan
    baseline: tuple[ReplicationResult, ...]
    changed: tuple[ReplicationResult, ...]
    baseline_inputs: Inputs
    changed_inputs: Inputs


def prepare(start: StartState, scenario: Scenario, plan: RunPlan) -> tuple[Inputs, Inputs]:
    """The baseline's and the scenario's inputs (diaries built here, once for all
    replications)."""
    return (compile_inputs(start, scenario, baseline=True, weeks=plan.weeks,
                           warmup_weeks=plan.warmup_weeks),
            compile_inputs(start, scenario, baseline=False, weeks=plan.weeks,
                           warmup_weeks=plan.warmup_weeks))


def run_experiment(start: StartState, scenario: Scenario, plan: RunPlan, *,
                   scheduler: str | None = None, workers: int = 0,
                   progress: Progress | None = None) -> Experiment:
    """Both arms. `workers` 0 runs in this process; otherwise a local dask cluster of that
    many single-threaded worker processes, or the cluster at `scheduler`."""
    baseline, changed = prepare(start, scenario, plan)
    results = run_replications([baseline, changed], plan.seeds(), scheduler=scheduler,
                               workers=workers, progress=progress)
    return Experiment(scenario, plan, tuple(results[0]), tuple(results[1]), baseline, changed)


def run_replications(arms: list[Inputs], seeds: list[int], *, scheduler: str | None = None,
                     workers: int = 0, progress: Progress | None = None
                     ) -> list[list[ReplicationResult]]:
    """Every arm × seed; results per arm in seed order."""
    total = len(arms) * len(seeds)
    done = 0
    if scheduler is None and workers <= 0:
        results = []
        for inputs in arms:
            results.append([])
            for seed in seeds:
                results[-1].append(simulate(inputs, seed))
                done += 1
                if progress:
                    progress(done, total)
        return results
    return _on_dask(arms, seeds, scheduler, workers, progress)


def _on_dask(arms, seeds, scheduler, workers, progress) -> list[list[ReplicationResult]]:
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        return run_on_client(client, arms, seeds, progress)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_on_client(client, arms: list[Inputs], seeds: list[int],
                  progress: Progress | None = None) -> list[list[ReplicationResult]]:
    """Every arm × seed on a connected dask client (inputs sent to every worker once)."""
    from dask.distributed import as_completed

    shared = [client.scatter(inputs, broadcast=True, hash=False) for inputs in arms]
    futures = {client.submit(simulate, shared[a], seed, pure=False): (a, s)
               for a in range(len(arms)) for s, seed in enumerate(seeds)}
    results: list[list] = [[None] * len(seeds) for _ in arms]
    for done, future in enumerate(as_completed(futures), start=1):
        a, s = futures[future]
        results[a][s] = future.result()
        if progress:
            progress(done, len(futures))
    return results
