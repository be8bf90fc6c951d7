"""`cdip bench reads`: what logging staff reads of patients' records costs a read, on a
scratch database (SQLite file, or PostgreSQL with --database-url) of one week of network
diaries with `appointments` booked.

Two comparisons, each against a baseline measured in the same run and interleaved with it
(read A, then B, then A...), so the machine's drift touches both alike:
- service layer, in-process: `appointments.services.get_appointment` in a read-only session,
  without a reader (not logged: before) and with a staff reader (logged: after);
- over HTTP against a real uvicorn server: a clerk's `GET /api/appointments/{id}` (logged)
  against the same clerk's `GET /api/slots/{id}` of the appointment's slot (a one-row read
  of the same weight through the same sign-in check, not logged).
Then counts the log: every logged read must have left exactly one row."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select

from booking_api.appointments import services
from booking_api.audit.models import PatientRecordRead
from booking_api.audit.reads import Reader
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_database
from cdip_bench.booking import free_plain_slots, running_server
from cdip_bench.booking_client import LoopbackClient
from cdip_bench.booking_data import CLERK_NAME, CLERK_PASSWORD, build_world, scratch_database

BENCH_CLERK = Actor(f"clerk:{CLERK_NAME}", Channel.CLERK, role="clerk")


def reads_benchmark(database_url: str = "", appointments: int = 200, service_reads: int = 2000,
                    http_reads: int = 1000, seed: int = 11) -> dict:
    """Median and p95 of a staff read with and without its access-log row, in-process and
    over HTTP, and the log's row count against the reads logged."""
    load_before = os.getloadavg()[0]
    rng = random.Random(seed)
    with scratch_database(database_url or None) as url:
        world = build_world(url, 1, appointments, 1, seed, 0.3)
        booked = _book(world.engine, world.simple_requests, free_plain_slots(world.engine))
        db = open_database(url)
        try:
            service = _interleaved(service_reads, lambda: _service_read(db, rng.choice(booked)),
                                   lambda: _service_read(db, rng.choice(booked), BENCH_CLERK))
        finally:
            db.dispose()
        with running_server(url, 1) as base:
            http = _http_phase(base, booked, http_reads, rng)
        with transaction(world.engine) as session:
            rows = session.scalar(select(func.count()).select_from(PatientRecordRead)) or 0
        database = world.engine.dialect.name
        world.engine.dispose()
    return {
        "database": database,
        "service_unlogged_p50_ms": service["before_p50"],
        "service_logged_p50_ms": service["after_p50"],
        "service_unlogged_p95_ms": service["before_p95"],
        "service_logged_p95_ms": service["after_p95"],
        "service_logged_over_unlogged_p50": service["ratio_p50"],
        "service_extra_ms_p50": round(service["after_p50"] - service["before_p50"], 3),
        "http_slot_read_p50_ms": http["before_p50"],
        "http_appointment_read_logged_p50_ms": http["after_p50"],
        "http_slot_read_p95_ms": http["before_p95"],
        "http_appointment_read_logged_p95_ms": http["after_p95"],
        "http_logged_over_baseline_p50": http["ratio_p50"],
        "log_rows": rows,
        "logged_reads": service_reads + http_reads,
        "load_average_before": round(load_before, 2),
    }


def _book(engine, requests: list[int], slots: list[int]) -> list[tuple[int, int]]:
    """Book each request into a free slot; (appointment id, slot id) of each booking."""
    booked = []
    with transaction(engine) as session:
        for request_id, slot_id in zip(requests, slots[::3], strict=False):
            appointment = services.book_slot(session, BENCH_CLERK, request_id, slot_id,
                                             now=datetime.now(UTC))
            booked.append((appointment.id, slot_id))
    return booked


def _service_read(db, appointment: tuple[int, int], actor: Actor | None = None) -> None:
    reader = Reader(actor, "cdip bench reads") if actor else None
    with db.reading() as session:
        services.get_appointment(session, appointment[0], reader=reader)


def _http_phase(base: str, booked: list[tuple[int, int]], count: int,
                rng: random.Random) -> dict[str, float]:
    signed_in = httpx.post(f"{base}/api/auth/staff/sign-in", timeout=60, json={
        "username": CLERK_NAME, "password": CLERK_PASSWORD})
    signed_in.raise_for_status()
    client = LoopbackClient(base, {"Authorization":
                                   f"Bearer {signed_in.json()['access_token']}"})

    def read(path: str) -> None:
        answer = client.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} answered {answer.status_code}")

    for _appointment_id, slot_id in booked[:20]:  # warm the worker's pools and caches
        read(f"/api/slots/{slot_id}")
    picks = [rng.choice(booked) for _ in range(count)]
    turn = iter(picks)
    before_turn = iter(picks)
    return _interleaved(count, lambda: read(f"/api/slots/{next(before_turn)[1]}"),
                        lambda: read(f"/api/appointments/{next(turn)[0]}"))


def _interleaved(count: int, before: Callable[[], None],
                 after: Callable[[], None]) -> dict[str, float]:
    """Time `before` and `after` alternately, `count` times each (which goes first swaps
    every round); medians and p95s in ms, and the ratio of medians."""
    times: dict[str, list[float]] = {"before": [], "after": []}
    for round_number in range(count):
        order = (("before", before), ("after", after))
        for name, work in order if round_number % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - started) * 1000)
    figures = {}
    for name, values in times.items():
        figures[f"{name}_p50"] = round(statistics.median(values), 3)
        figures[f"{name}_p95"] = round(statistics.quantiles(values, n=20)[-1], 3)
    figures["ratio_p50"] = round(figures["after_p50"] / figures["before_p50"], 3)
    return figures
