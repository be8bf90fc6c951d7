"""`cdip bench messages`: the outbox end to end on PostgreSQL with real `cdip worker`
processes, the fake Twilio (real HTTP through the twilio client, 100-300 ms a request) and an
SMTP catcher (aiosmtpd), in this process. Traffic stays on loopback; every phase is bounded
in count and time.

On one scratch database, with N workers and with one (the baseline, in the same run):

1. healthy, paced: bookings at a steady rate below capacity; p95 from a message's row being
   written (the booking's commit) to the provider receiving it; N workers, then one;
2. healthy, backlog, in rounds alternating N workers and one (the others stopped with
   SIGTERM, then started again), so both see the shared machine at much the same moments:
   a burst of bookings at once; messages per second from the first row written to the last
   message received; medians of the rounds, and the median of the rounds' ratios;
3. faults, with N workers: more bookings, a fifth of them cancelled while their messages
   are in flight;
   the fake Twilio answers 500 for a stretch, 429 and times out (before and after taking the
   message); the SMTP catcher refuses; one worker is killed with SIGKILL mid-batch and
   replaced; every worker's database connection is ended (`pg_terminate_backend`, what a
   PostgreSQL restart does to them).

Then the offline check (`messages_check`) over all of it: lost, duplicated, sent for a
cancelled appointment, against the providers' own records."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from cdip_bench.booking_data import scratch_database
from cdip_bench.messages_check import check_outbox
from cdip_bench.messages_workers import (
    EMAIL_FROM,
    Providers,
    Workers,
    queued_due,
    running_providers,
    terminate_worker_connections,
    wait_drained,
    worker_environment,
)
from cdip_bench.messages_world import MessageWorld, build_message_world
from fake_providers.twilio_state import FaultKind

DRAIN_TIMEOUT_S = 180.0


def messages_benchmark(database_url: str = "postgresql://postgres@127.0.0.1:5432/test",
                       workers: int = 2, concurrency: int = 2, paced: int = 40,
                       paced_per_s: float = 4.0, backlog: int = 100, rounds: int = 3,
                       faulty: int = 120, latency_min_ms: int = 100, latency_max_ms: int = 300,
                       faults: bool = True, seed: int = 7) -> dict[str, Any]:
    """Messages through N worker processes and through one, in one run: throughput, p95
    enqueue to provider when healthy, and lost / duplicated / sent for cancelled after
    faults (counts of bookings per phase; each booking sends a text and an email)."""
    if not database_url.startswith("postgres"):
        raise ValueError("--database-url: the messages benchmark needs PostgreSQL (workers "
                         "on several processes share it)")
    if workers < 1 or rounds < 1:
        raise ValueError("--workers and --rounds: at least 1")
    load = [round(os.getloadavg()[0], 1)]
    rng = random.Random(seed)
    patients = 2 * paced + 2 * rounds * backlog + faulty
    latency = (latency_min_ms, latency_max_ms)
    with scratch_database(database_url) as url, running_providers(latency, seed) as providers:
        world = build_message_world(url, patients=patients, seed=seed)
        pool = Workers(worker_environment(url, providers, concurrency))
        try:
            pool.start(workers)
            figures = _healthy(world, providers, pool, workers, paced, paced_per_s, backlog,
                               rounds)
            fault_log = faulty_phase(world, providers, pool, faulty, faults, rng)
            drained = wait_drained(world.db, DRAIN_TIMEOUT_S)
            texts, emails = providers.received()
            final = check_outbox(world.db, texts, emails, world.cancelled_at,
                                 datetime.now(UTC), EMAIL_FROM)
        finally:
            pool.stop()
            world.db.dispose()
    load.append(round(os.getloadavg()[0], 1))
    if not final["problems"]:
        del final["problems"]
    return {"workers": workers, "concurrency_per_worker": concurrency,
            "messages": final["delivered"], **figures.pop("many"),
            "lost": final["lost"], "duplicated": final["duplicated"],
            "sent_for_cancelled": final["sent_for_cancelled"], **figures,
            "after_faults": {key: final[key] for key in final
                             if key not in ("first_enqueued", "last_received")},
            "drained": drained, "faults": fault_log, "load_average_1m": load}


def _healthy(world: MessageWorld, providers: Providers, pool: Workers, workers: int,
             paced: int, paced_per_s: float, backlog: int, rounds: int) -> dict[str, Any]:
    """Paced and backlog phases with N workers, then with one, in alternation (rounds), so
    both see the machine as it is at much the same moments."""
    many = {"p95_enqueue_to_send_ms": _paced(world, providers, paced, paced_per_s)[
        "p95_enqueue_to_send_ms"]}
    one: dict[str, Any] = {"workers": 1}
    rates: dict[int, list[float]] = {workers: [], 1: []}
    for round_number in range(rounds):
        rates[workers].append(_backlog(world, providers, backlog)["messages_per_s"])
        if workers == 1:
            continue
        pool.retire(workers - 1)
        if round_number == 0:
            one["p95_enqueue_to_send_ms"] = _paced(world, providers, paced, paced_per_s)[
                "p95_enqueue_to_send_ms"]
        rates[1].append(_backlog(world, providers, backlog)["messages_per_s"])
        pool.start(workers - 1)
    many["messages_per_s"] = _median(rates[workers])
    many["messages_per_s_rounds"] = rates[workers]
    if workers == 1:
        return {"many": many}
    one["messages_per_s"] = _median(rates[1])
    one["messages_per_s_rounds"] = rates[1]
    ratios = [n / o for n, o in zip(rates[workers], rates[1], strict=True) if n and o]
    return {"many": many, "one_worker": one,
            "speedup_vs_one_worker": _median(ratios, digits=2) if ratios else None}


def _median(values: list[float], digits: int = 1) -> float | None:
    present = sorted(v for v in values if v is not None)
    return round(float(np.median(present)), digits) if present else None


def _paced(world: MessageWorld, providers: Providers, bookings: int,
           per_s: float) -> dict[str, Any]:
    start = time.monotonic()
    made = []
    for number in range(bookings):
        pause = start + number / per_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        made.extend(world.book(1))
    wait_drained(world.db, DRAIN_TIMEOUT_S)
    return _check(world, providers, set(made))


def _backlog(world: MessageWorld, providers: Providers, bookings: int) -> dict[str, Any]:
    made = set(world.book(bookings))
    wait_drained(world.db, DRAIN_TIMEOUT_S)
    figures = _check(world, providers, made)
    span = (figures["last_received"] or 0) - (figures["first_enqueued"] or 0)
    figures["messages_per_s"] = round(figures["delivered"] / span, 1) if span > 0 else None
    figures["seconds"] = round(span, 2)
    return {key: figures[key] for key in ("delivered", "seconds", "messages_per_s", "lost",
                                          "duplicated")}


def _check(world: MessageWorld, providers: Providers, appointments: set[int]
           ) -> dict[str, Any]:
    texts, emails = providers.received()
    return check_outbox(world.db, texts, emails, world.cancelled_at, datetime.now(UTC),
                        EMAIL_FROM, appointments)


def faulty_phase(world: MessageWorld, providers: Providers, pool: Workers, bookings: int,
            faults: bool, rng: random.Random) -> dict[str, Any]:
    """Book, cancel some while in flight, and break things; returns what was done."""
    log: dict[str, Any] = {"cancelled": 0}
    if faults:
        twilio = providers.twilio.state
        twilio.add_fault(FaultKind.SERVER_ERROR, seconds=1.5)
        twilio.add_fault(FaultKind.RATE_LIMITED, count=10)
        twilio.add_fault(FaultKind.TIMEOUT, count=3, hang_seconds=5)
        twilio.add_fault(FaultKind.TIMEOUT_AFTER_ACCEPT, count=3, hang_seconds=5)
        providers.smtp.handler.refuse_next(10, "451 4.3.0 Try again later")
    canceller = threading.Thread(target=_cancel_some, args=(world, bookings, rng, log))
    made = world.book(bookings // 2)
    canceller.start()
    if faults:
        log["killed_worker_pid"] = _kill_mid_batch(world, pool)
        pool.start(1)  # its replacement
    made += world.book(bookings - bookings // 2)
    if faults:
        time.sleep(0.5)
        log["connections_ended"] = terminate_worker_connections(world.db)
    canceller.join()
    log["bookings"] = len(made)
    return log


def _cancel_some(world: MessageWorld, bookings: int, rng: random.Random,
                 log: dict[str, Any]) -> None:
    """Cancel a fifth of the phase's bookings, a few at a time, as they are being sent."""
    for _ in range(bookings // 5):
        time.sleep(rng.uniform(0.0, 0.15))
        candidates = [a for a in list(world.booked.values()) if a not in world.cancelled_at]
        if candidates:
            world.cancel(rng.choice(candidates[-40:]))
            log["cancelled"] += 1


def _kill_mid_batch(world: MessageWorld, pool: Workers) -> int | None:
    """SIGKILL the first worker once messages are in flight."""
    deadline = time.monotonic() + 10
    while queued_due(world.db) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # a batch is in hand
    return pool.kill(0)
