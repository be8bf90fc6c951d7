"""Erlang C: the mean wait in queue of an M/M/c system, the formula the engine's queue is
checked against (`mmc_check`)."""

from __future__ import annotations

import math


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time waiting before service (Wq) for Poisson arrivals, exponential service and
    `servers` servers; the load must be under 1."""
    load = arrival_rate / (servers * service_rate)
    if not 0 < load < 1:
        raise ValueError(f"load {load:.3f} must be between 0 and 1")
    offered = arrival_rate / service_rate
    top = offered**servers / math.factorial(servers) / (1 - load)
    bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
    return (top / bottom) / (servers * service_rate - arrival_rate)
