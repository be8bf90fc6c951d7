"""The single-queue scenario: the walk-in clinic's queue (`walk_in.fifo_waits`, the code the
engine runs) fed Poisson arrivals and exponential service, its mean wait against Erlang C.
Used by the validation test and by `cdip bench simulate`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulations.whatif.erlang import erlang_c_wait
from simulations.whatif.walk_in import fifo_waits


@dataclass(frozen=True)
class MmcCheck:
    simulated_wait: float
    erlang_c_wait: float

    @property
    def relative_error(self) -> float:
        return abs(self.simulated_wait - self.erlang_c_wait) / self.erlang_c_wait


def mmc_check(servers: int = 3, load: float = 0.8, customers: int = 400_000,
              warmup: int = 20_000, replications: int = 5, seed: int = 0) -> MmcCheck:
    """Mean wait over `replications` independent runs (the first `warmup` customers of each
    dropped) against the formula, with service rate 1."""
    arrival_rate = load * servers
    means = []
    for child in np.random.SeedSequence(seed).spawn(replications):
        rng = np.random.default_rng(child)
        arrivals = np.cumsum(rng.exponential(1 / arrival_rate, customers))
        waits = fifo_waits(arrivals, rng.exponential(1.0, customers), servers)
        means.append(float(waits[warmup:].mean()))
    return MmcCheck(float(np.mean(means)), erlang_c_wait(arrival_rate, 1.0, servers))
