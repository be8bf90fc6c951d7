"""`cdip bench booking`: search speed, booking throughput and contention safety measured over
HTTP against a real uvicorn server on 127.0.0.1, on a scratch database filled with six weeks of
whole-network diaries. Traffic stays on loopback; every phase is bounded in count.

Phases: warm-up (the server loads its slot index), concurrent searches, a baseline search that
queries the database each time (in-process, no HTTP) for the ratio, as many health checks as
bookings (the machine's speed in this run, for the bookings' ratio), concurrent bookings of
distinct slots, then `contention_attempts` concurrent bookings aimed at a few hot slots, and
finally SQL counts of double bookings (two active appointments on one slot or overlapping in
one room)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import numpy as np
from sqlalchemy import Engine, text
from sqlmodel import Session, col

from booking_api.core.db import transaction
from booking_api.search.index import ModalityView, SlotIndex, slot_rows_query
from booking_api.search.services import SearchQuery, search_slots
from booking_api.slots.models import Slot
from cdip_bench.booking_client import Answer, LoopbackClient
from cdip_bench.booking_data import (
    CLERK_NAME,
    CLERK_PASSWORD,
    BenchWorld,
    build_world,
    scratch_database,
)
from domain.lifecycle import SlotStatus
from domain.vocabulary import Modality

ACTIVE = "('held', 'booked')"
DOUBLE_ON_A_SLOT = (f"SELECT count(*) FROM (SELECT slot_id FROM appointment WHERE state IN "
                    f"{ACTIVE} GROUP BY slot_id HAVING count(*) > 1) AS doubled")
OVERLAPS_IN_A_ROOM = (f"SELECT count(*) FROM appointment a JOIN appointment b ON "
                      f"a.room_id = b.room_id AND a.id < b.id AND a.start_at < b.end_at AND "
                      f"b.start_at < a.end_at WHERE a.state IN {ACTIVE} AND b.state IN {ACTIVE}")
FREE_PLAIN_XR = ("SELECT slot.id FROM slot JOIN site ON site.site_id = slot.site_id "
                 "WHERE slot.modality = 'XR' AND slot.families = 'XR_PLAIN' AND "
                 "slot.status = 'free' AND slot.start_at >= :after "
                 "AND site.age_limit_years IS NULL ORDER BY slot.id")
"""Slots any of the benchmark's patients (adults) may take: not at a children's hospital."""


def booking_benchmark(database_url: str = "", weeks: int = 6, session_share: float = 0.6,
                      searches: int = 400, search_clients: int = 4, baseline_searches: int = 10,
                      bookings: int = 2000, booking_clients: int = 8,
                      contention_attempts: int = 10_000, hot_slots: int = 50,
                      contention_clients: int = 16, server_workers: int = 2,
                      seed: int = 7) -> dict:
    """Search p50/p95 over HTTP, bookings per second and double bookings under contention, on
    a scratch SQLite file (default) or a fresh database on the PostgreSQL server named by
    --database-url (dropped afterwards). The server runs one uvicorn worker per core of the
    2-core reference machine (--server-workers)."""
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    with scratch_database(database_url or None) as url:
        world = build_world(url, weeks, bookings + contention_attempts, searches, seed,
                            session_share)
        filled = time.perf_counter() - started
        with running_server(url, server_workers) as base:
            figures = _measure(world, base, searches, search_clients, baseline_searches,
                               bookings, booking_clients, contention_attempts, hot_slots,
                               contention_clients, random.Random(seed))
        figures["double_bookings"] = double_bookings(world.engine)
        world.engine.dispose()
    return {"database": world.engine.dialect.name, "slots": world.slots,
            "server_workers": server_workers, **figures,
            "fill_s": round(filled, 1), "elapsed_s": round(time.perf_counter() - started, 1),
            "cpus": os.cpu_count(), "load_average_1m": [round(load_before, 1),
                                                       round(os.getloadavg()[0], 1)]}


def _measure(world: BenchWorld, base: str, searches: int, search_clients: int,
             baseline_searches: int, bookings: int, booking_clients: int, attempts: int,
             hot: int, contention_clients: int, rng: random.Random) -> dict:
    headers = _clerk_headers(base)
    index_load_s = _warm_up(base, headers, world.varied_requests)
    search = _search_phase(base, headers, world.varied_requests, searches, search_clients, rng)
    baseline = _baseline_p95(world, baseline_searches)
    free = free_plain_slots(world.engine)
    rng.shuffle(free)
    if len(free) < bookings + hot:
        raise RuntimeError(f"only {len(free)} free plain X-ray slots; need {bookings + hot}")
    floor = _floor_phase(base, headers, bookings, booking_clients)
    booked = _booking_phase(base, headers, world.simple_requests[:bookings], free[:bookings],
                            booking_clients)
    contended = _contention_phase(base, headers, world.simple_requests[bookings:],
                                  free[bookings:bookings + hot], attempts, contention_clients,
                                  rng)
    return {
        "search_p50_ms": search["p50"], "search_p95_ms": search["p95"],
        "bookings_per_s": booked["per_s"], "contention_attempts": contended["attempts"],
        "searches": searches, "search_clients": search_clients,
        "search_errors": search["errors"], "median_eligible_slots": search["eligible"],
        "index_load_s": round(index_load_s, 1),
        "baseline_db_query_search_p95_ms": baseline,
        "search_p95_speedup_vs_baseline": round(baseline / search["p95"], 1),
        "bookings": booked["booked"], "booking_clients": booking_clients,
        "health_checks_per_s": floor,
        "bookings_per_health_check": round(booked["per_s"] / floor, 3),
        "booking_errors": booked["errors"], "hot_slots": hot,
        "contention_clients": contention_clients, "contention_winners": contended["won"],
        "contention_conflicts_409": contended["refused"],
        "contention_other_errors": contended["errors"],
        "contention_attempts_per_s": contended["per_s"],
    }


def _warm_up(base: str, headers: dict, requests: Sequence[int], rounds: int = 8,
             kinds: int = 12) -> float:
    """What a server does as it starts, before it takes traffic: every worker loads its slot
    index (searches on fresh connections, so they spread over the workers), then meets the
    first few kinds of request once each. Returns the slowest index load, in seconds."""
    slowest = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        _get(base, headers, f"/api/requests/{requests[0]}/slots")
        slowest = max(slowest, time.perf_counter() - started)
    for _ in range(rounds // 2):
        for request_id in requests[:kinds]:
            _get(base, headers, f"/api/requests/{request_id}/slots")
    return slowest


def _search_phase(base: str, headers: dict, requests: Sequence[int], count: int, clients: int,
                  rng: random.Random) -> dict:
    paths = []
    for i in range(count):
        sort = "nearest" if i % 2 else "soonest"
        limit = "&max_km=40" if rng.random() < 0.3 else ""
        paths.append(f"/api/requests/{requests[i % len(requests)]}/slots?sort={sort}{limit}")
    answers = _run_concurrently(base, headers, clients, [
        (lambda client, path=path: client.get(path)) for path in paths])
    timings = [ms for ms, _ in answers]
    ok = [response for _, response in answers if response.status_code == 200]
    return {"p50": round(float(np.percentile(timings, 50)), 1),
            "p95": round(float(np.percentile(timings, 95)), 1),
            "errors": len(answers) - len(ok),
            "eligible": int(np.median([r.json()["eligible_slots"] for r in ok])) if ok else 0}


def _baseline_p95(world: BenchWorld, count: int) -> float:
    """The same searches answered by querying the database each time (no index), in-process."""
    timings = []
    now = datetime.now(UTC)
    for request_id in world.varied_requests[:count]:
        with transaction(world.engine) as session:
            started = time.perf_counter()
            _database_search(session, request_id, now)
            timings.append((time.perf_counter() - started) * 1000)
    return round(float(np.percentile(timings, 95)), 1)


class QueryEachSearch(SlotIndex):
    """The baseline: no cache. Each search reads the free future slots of its modality from
    the database (indexed on modality and start), then judges them with the same rules."""

    def __init__(self, now: datetime) -> None:
        super().__init__()
        self.now = now
        self._session: Session | None = None

    def refresh(self, session: Session, force: bool = False, wait: bool = True) -> None:
        self._session = session

    def view(self, modality: Modality, now_s: int) -> ModalityView:
        assert self._session is not None
        dialect = self._session.get_bind().dialect.name
        self.load(self._session, slot_rows_query(dialect).where(
            Slot.modality == modality, Slot.status == SlotStatus.FREE,
            col(Slot.start_at) >= self.now))
        return super().view(modality, now_s)


def _database_search(session: Session, request_id: int, now: datetime) -> None:
    search_slots(session, QueryEachSearch(now), request_id, SearchQuery(), now=now)


def _floor_phase(base: str, headers: dict, count: int, clients: int) -> float:
    """The same clients' rate on GET /health (liveness, answered by the overload guard with
    no database since issue 13; it was one `SELECT 1` before), the cheapest request the
    service answers: how fast this machine serves anything in this run, so a bookings/s
    figure can be read against it (the machines here drift by ±20 % over minutes)."""
    calls = [lambda client: client.get("/health")] * count
    started = time.perf_counter()
    answers = _run_concurrently(base, headers, clients, calls)
    elapsed = time.perf_counter() - started
    return round(sum(r.status_code == 200 for _, r in answers) / elapsed, 1)


def _booking_phase(base: str, headers: dict, requests: Sequence[int], slots: Sequence[int],
                   clients: int) -> dict:
    calls = [_booking_call(r, s) for r, s in zip(requests, slots, strict=True)]
    started = time.perf_counter()
    answers = _run_concurrently(base, headers, clients, calls)
    elapsed = time.perf_counter() - started
    statuses = Counter(response.status_code for _, response in answers)
    return {"booked": statuses[201], "errors": len(answers) - statuses[201],
            "per_s": round(statuses[201] / elapsed, 1)}


def _contention_phase(base: str, headers: dict, requests: Sequence[int], hot: Sequence[int],
                      attempts: int, clients: int, rng: random.Random) -> dict:
    targets = [hot[i % len(hot)] for i in range(attempts)]
    rng.shuffle(targets)
    calls = [_booking_call(r, s) for r, s in zip(requests[:attempts], targets, strict=True)]
    started = time.perf_counter()
    answers = _run_concurrently(base, headers, clients, calls)
    elapsed = time.perf_counter() - started
    statuses = Counter(response.status_code for _, response in answers)
    return {"attempts": len(answers), "won": statuses[201], "refused": statuses[409],
            "errors": len(answers) - statuses[201] - statuses[409],
            "per_s": round(len(answers) / elapsed, 1)}


def double_bookings(engine: Engine) -> int:
    """Slots with more than one active appointment, plus overlapping active pairs in a room."""
    with engine.connect() as connection:
        return int(connection.execute(text(DOUBLE_ON_A_SLOT)).scalar_one()
                   + connection.execute(text(OVERLAPS_IN_A_ROOM)).scalar_one())


def free_plain_slots(engine: Engine) -> list[int]:
    """Free plain X-ray slots from now on that every one of the world's patients may take."""
    after = datetime.now(UTC).replace(microsecond=0).isoformat(sep=" ")
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            after = after.split("+")[0]
        return list(connection.execute(text(FREE_PLAIN_XR), {"after": after}).scalars())


Call = Callable[[LoopbackClient], Answer]


def _booking_call(request_id: int, slot_id: int) -> Call:
    body = {"request_id": request_id, "slot_id": slot_id}
    return lambda client: client.post("/api/appointments", body,
                                      {"Idempotency-Key": str(uuid.uuid4())})


def _run_concurrently(base: str, headers: dict, clients: int, calls: Sequence[Call]
                      ) -> list[tuple[float, Answer]]:
    """Run the calls on `clients` threads, each with its own keep-alive connection; returns
    (milliseconds, response) per call."""
    local = threading.local()

    def run(call: Call) -> tuple[float, Answer]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = LoopbackClient(base, headers)
        started = time.perf_counter()
        response = call(client)
        return (time.perf_counter() - started) * 1000, response

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(run, calls))


def _clerk_headers(base: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/auth/staff/sign-in", timeout=60,
                          json={"username": CLERK_NAME, "password": CLERK_PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _get(base: str, headers: dict, path: str) -> httpx.Response:
    response = httpx.get(f"{base}{path}", headers=headers, timeout=300)
    response.raise_for_status()
    return response


@contextmanager
def running_server(database_url: str, workers: int = 1) -> Iterator[str]:
    """`uvicorn` serving the app on a free loopback port, in its own process(es)."""
    port = _free_port()
    env = {**os.environ, "CDIP_DATABASE_URL": database_url, "CDIP_ENVIRONMENT": "test"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cdip_web.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log", "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_up(base: str, process: subprocess.Popen, timeout_s: float = 60,
                  what: str = "the server") -> None:
    """Wait until the server `process` started answers /health at `base` (RuntimeError if it
    exits first or stays silent `timeout_s`); shared by every benchmark that starts one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on {base} within {timeout_s} s")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
