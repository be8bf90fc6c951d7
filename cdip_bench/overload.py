"""`cdip bench overload`: does a flood of unauthenticated requests keep staff from working?

A real uvicorn server on a scratch database (`booking_data`, one week of diaries) is flooded
by N concurrent unauthenticated clients (`overload_flood`, its own process: `GET /health` and
staff sign-ins with a wrong password, alternately, as fast as the server answers), for N in
`floods`, while one clerk books plain X-rays one after another on a keep-alive connection.
The same clerk books with no flood at all first in every round: the baseline, measured in the
same run on the same machine. Rounds repeat the whole sequence; figures are medians over
rounds (counts are totals).

What is judged (docs/operations.md): the clerk's booking p95 (target ≤ 250 ms), the clerk's
5xx (target 0, overload 503s included: a signed-in clerk must never be turned away), the
flood's 5xx other than the overload guard's 503 (target 0; the guard's 503 + Retry-After is
the intended answer to a flood and is counted apart), and the longest any request waited,
clerk or flood (target ≤ 1 s)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence

import numpy as np

from cdip_bench.booking import _clerk_headers, double_bookings, free_plain_slots, running_server
from cdip_bench.booking_client import LoopbackClient
from cdip_bench.booking_data import build_world, scratch_database

P95_TARGET_MS = 250.0
WAIT_TARGET_MS = 1000.0


def overload_benchmark(database_url: str = "", floods: str = "50,100,200,400",
                       rounds: int = 3, bookings: int = 20, pause_s: float = 0.1,
                       ramp_s: float = 1.0, server_workers: int = 1, flood_kinds: str = "both",
                       seed: int = 7) -> dict:
    """Clerk booking latency while N unauthenticated clients flood /health and sign-in, beside
    no flood, on a scratch SQLite file (default) or a fresh PostgreSQL database named by
    --database-url (dropped afterwards). --flood-kinds: both (default), health or sign-in.
    Targets: p95 ≤ 250 ms, no 5xx for the clerk, no 5xx
    but the guard's 503s for the flood, no request waiting over 1 s."""
    sizes = [int(part) for part in floods.split(",") if part.strip()]
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    phases = [0, *sizes]
    with scratch_database(database_url or None) as url:
        needed = rounds * len(phases) * bookings
        world = build_world(url, 1, needed, 1, seed, 0.3)
        slots = free_plain_slots(world.engine)
        if len(slots) < needed:
            raise RuntimeError(f"only {len(slots)} free plain X-ray slots; need {needed}")
        work = list(zip(world.simple_requests, slots, strict=False))
        results: dict[int, list[dict]] = {size: [] for size in phases}
        with running_server(url, server_workers) as base:
            clerk = LoopbackClient(base, _clerk_headers(base))
            for _ in range(rounds):
                for size in phases:
                    batch, work = work[:bookings], work[bookings:]
                    results[size].append(_phase(base, clerk, size, batch, pause_s, ramp_s,
                                                flood_kinds))
        doubled = double_bookings(world.engine)
        database = world.engine.dialect.name
        world.engine.dispose()
    figures = {"database": database, "server_workers": server_workers, "rounds": rounds,
               "flood_kinds": flood_kinds,
               "bookings_per_phase": bookings,
               **_summary("baseline", results[0], None),
               **{key: value for size in sizes
                  for key, value in _summary(f"flood_{size}", results[size],
                                             results[0]).items()},
               "double_bookings": doubled}
    figures["targets_met"] = _targets_met(figures, sizes)
    figures.update(elapsed_s=round(time.perf_counter() - started, 1), cpus=os.cpu_count(),
                   load_average_1m=[round(load_before, 1), round(os.getloadavg()[0], 1)])
    return figures


def _phase(base: str, clerk: LoopbackClient, size: int, batch: Sequence[tuple[int, int]],
           pause_s: float, ramp_s: float, kinds: str) -> dict:
    """One phase: start the flood (none for size 0), let it ramp up, book the batch, stop."""
    flood = None
    if size:
        flood = subprocess.Popen(
            [sys.executable, "-m", "cdip_bench.overload_flood", base, str(size), kinds],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert flood.stdout is not None
        flood.stdout.readline()  # "flooding"
        time.sleep(ramp_s)
    timings, statuses = [], Counter()
    for request_id, slot_id in batch:
        began = time.perf_counter()
        answer = clerk.post("/api/appointments", {"request_id": request_id, "slot_id": slot_id},
                            {"Idempotency-Key": str(uuid.uuid4())})
        timings.append((time.perf_counter() - began) * 1000)
        statuses[answer.status_code] += 1
        time.sleep(pause_s)
    flooded: dict = {}
    if flood is not None:
        assert flood.stdin is not None and flood.stdout is not None
        flood.stdin.write("stop\n")
        flood.stdin.flush()
        flooded = json.loads(flood.stdout.readline())
        flood.wait(timeout=60)
    return {"timings": timings, "statuses": statuses, "flood": flooded}


def _summary(name: str, runs: list[dict], baseline: list[dict] | None) -> dict:
    p95 = statistics.median(float(np.percentile(run["timings"], 95)) for run in runs)
    p50 = statistics.median(float(np.percentile(run["timings"], 50)) for run in runs)
    clerk_max = max(max(run["timings"]) for run in runs)
    clerk = sum((run["statuses"] for run in runs), Counter())
    figures = {f"{name}_clerk_p50_ms": round(p50, 1), f"{name}_clerk_p95_ms": round(p95, 1),
               f"{name}_clerk_max_ms": round(clerk_max, 1),
               f"{name}_clerk_booked": clerk[201],
               f"{name}_clerk_5xx": sum(n for status, n in clerk.items() if status >= 500)}
    if baseline is not None:
        base_p95 = statistics.median(float(np.percentile(run["timings"], 95))
                                     for run in baseline)
        flood = sum((Counter(run["flood"]["statuses"]) for run in runs), Counter())
        requests = sum(run["flood"]["requests"] for run in runs)
        seconds = sum(run["flood"]["seconds"] for run in runs)
        figures.update({
            f"{name}_clerk_p95_vs_baseline": round(p95 / base_p95, 2) if base_p95 else None,
            f"{name}_flood_requests_per_s": round(requests / seconds, 1) if seconds else 0,
            f"{name}_flood_ok": flood["200"],
            f"{name}_flood_refused_401_429": flood["401"] + flood["429"],
            f"{name}_flood_overload_503": flood["503"],
            f"{name}_flood_other_5xx": sum(n for status, n in flood.items()
                                           if status[0] == "5" and status != "503"),
            f"{name}_flood_connection_errors": sum(n for status, n in flood.items()
                                                   if status.startswith("error")),
            f"{name}_flood_p95_ms": statistics.median(run["flood"]["p95_ms"] for run in runs),
            f"{name}_flood_max_ms": max(run["flood"]["max_ms"] for run in runs),
        })
    return figures


def _targets_met(figures: dict, sizes: Sequence[int]) -> bool:
    for size in sizes:
        name = f"flood_{size}"
        if (figures[f"{name}_clerk_p95_ms"] > P95_TARGET_MS or figures[f"{name}_clerk_5xx"]
                or figures[f"{name}_flood_other_5xx"]
                or figures[f"{name}_flood_connection_errors"]
                or max(figures[f"{name}_clerk_max_ms"], figures[f"{name}_flood_max_ms"])
                > WAIT_TARGET_MS):
            return False
    return True
