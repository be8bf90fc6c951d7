"""The walk-in plain-film clinic within a day: patients arrive through the opening hours and
are seen first come, first served by the rooms running plain-film lists, each patient taking
the room that frees soonest (the Kiefer-Wolfowitz recursion, one heap). The same queue is the
single-queue scenario the engine is checked against M/M/c (Erlang C) with."""

from __future__ import annotations

import heapq

import numpy as np

CLINIC_MINUTES = 540
"""08:00 to 17:00."""
SERVICE_MEAN_MINUTES = 10.0
"""A plain film's slot (the XR_PLAIN template's 10 minutes); service is exponential."""


def fifo_waits(arrivals: np.ndarray, services: np.ndarray, servers: int) -> np.ndarray:
    """Minutes each customer waits (arrivals sorted) with `servers` identical servers."""
    free = [0.0] * servers
    waits = np.empty(len(arrivals))
    for i, (arrive, service) in enumerate(zip(arrivals.tolist(), services.tolist(),
                                              strict=True)):
        start = max(arrive, free[0])
        waits[i] = start - arrive
        heapq.heapreplace(free, start + service)
    return waits


def clinic_day_waits(patients: int, rooms: int, rng: np.random.Generator) -> np.ndarray:
    """One site's walk-in waits for a day: arrivals uniform over the clinic's hours."""
    arrivals = np.sort(rng.random(patients) * CLINIC_MINUTES)
    services = rng.exponential(SERVICE_MEAN_MINUTES, patients)
    return fifo_waits(arrivals, services, max(rooms, 1))
