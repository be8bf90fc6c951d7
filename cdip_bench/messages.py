"""`cdip bench messages`: the outbox end to end on PostgreSQL with real `cdip worker`
processes, the fake Twilio (real HTTP through the twilio client, 100-300 ms a request) and an
SMTP catcher (aiosmtpd), in this process. Traffic stays on loopback; every phase is bounded
in count and time.

For N workers, then for one (the baseline, same run), on a fresh scratch database each:

1. healthy, paced: bookings at a steady rate below capacity; p95 from a message's row being
   written (the booking's commit) to the provider receiving it;
2. healthy, backlog: a burst of bookings at once; messages per second from the first row
   written to the last message received;
3. faults: more bookings, a fifth of them cancelled while their messages are in flight;
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
                       workers: int = 2, concurrency: int = 4, paced: int = 60,
                       paced_per_s: float = 4.0, backlog: int = 150, faulty: int = 120,
                       latency_min_ms: int = 100, latency_max_ms: int = 300,
                       faults: bool = True, seed: int = 7) -> dict[str, Any]:
    """Messages through N worker processes and through one: throughput, p95 enqueue to
    provider when healthy, and lost / duplicated / sent for cancelled after faults
    (counts of bookings per phase; each booking sends a text and an email)."""
    if not database_url.startswith("postgres"):
        raise ValueError("--database-url: the messages benchmark needs PostgreSQL (workers "
                         "on several processes share it)")
    load_before = os.getloadavg()[0]
    options = dict(database_url=database_url, concurrency=concurrency, paced=paced,
                   paced_per_s=paced_per_s, backlog=backlog, faulty=faulty,
                   latency=(latency_min_ms, latency_max_ms), faults=faults, seed=seed)
    main = _run(workers=workers, **options)
    load = {"load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)]}
    if workers == 1:
        return {**main, **load}
    one = _run(workers=1, **options)
    speedup = (main["messages_per_s"] / one["messages_per_s"]
               if one["messages_per_s"] else None)
    load["load_average_1m"].append(round(os.getloadavg()[0], 1))
    return {**main, "one_worker": one,
            "speedup_vs_one_worker": round(speedup, 2) if speedup else None, **load}


def _run(*, database_url: str, workers: int, concurrency: int, paced: int,
         paced_per_s: float, backlog: int, faulty: int, latency: tuple[int, int],
         faults: bool, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with scratch_database(database_url) as url, running_providers(latency, seed) as providers:
        world = build_message_world(url, patients=paced + backlog + faulty, seed=seed)
        pool = Workers(worker_environment(url, providers, concurrency))
        try:
            pool.start(workers)
            healthy = _paced(world, providers, paced, paced_per_s)
            throughput = _backlog(world, providers, backlog)
            fault_log = faulty_phase(world, providers, pool, faulty, faults, rng)
            drained = wait_drained(world.db, DRAIN_TIMEOUT_S)
            texts, emails = providers.received()
            final = check_outbox(world.db, texts, emails, world.cancelled_at,
                                 datetime.now(UTC), EMAIL_FROM)
        finally:
            pool.stop()
            world.db.dispose()
    return {"workers": workers, "concurrency_per_worker": concurrency,
            "messages": final["delivered"],
            "messages_per_s": throughput["messages_per_s"],
            "p95_enqueue_to_send_ms": healthy["p95_enqueue_to_send_ms"],
            "lost": final["lost"], "duplicated": final["duplicated"],
            "sent_for_cancelled": final["sent_for_cancelled"],
            "unrecorded": final["unrecorded"], "dead_letters": final["dead"],
            "still_queued": final["still_queued"], "drained": drained,
            "skipped_no_longer_true": final["skipped"], "due": final["due"],
            "healthy_backlog": throughput, "faults": fault_log}


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
