"""`cdip bench scale`: one and two single-worker `cdip serve` nodes on one PostgreSQL
database: bookings per second and search p95 with all clients on one node, then spread over
two (in alternating rounds, so both see the shared machine at much the same moments), where
the CPU went, how long a change made on one node takes to show on the other (quiet, and while
a week of new slots is written), and each node's memory steady and at a merge or reload.

Node a merges new slots into its index (the default catch-up limit); node b is started with a
catch-up limit of 1,000 changed slots, so the same week makes it reload: its peak memory is
the reload's. Traffic stays on loopback; every phase is bounded in count."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
from sqlalchemy import text

from cdip_bench.booking import free_plain_slots
from cdip_bench.booking_client import Answer, LoopbackClient
from cdip_bench.booking_data import BenchWorld, build_world, scratch_database, write_diaries
from cdip_bench.scale_nodes import ServedNode, postgres_cpu_s, running_nodes
from domain.network import load_reference_network

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
RELOADING_LIMIT = "1000"
POLL_S = 0.005
Call = Callable[[LoopbackClient], Answer]


def scale_benchmark(database_url: str = "", weeks: int = 2, session_share: float = 0.6,
                    rounds: int = 3, bookings: int = 300, booking_clients: int = 8,
                    searches: int = 150, search_clients: int = 4, probes: int = 30,
                    seed: int = 7) -> dict:
    """Figures for 1 and 2 nodes on a fresh database on the PostgreSQL server named by
    --database-url (default: CDIP_TEST_POSTGRES_URL or the local server), dropped
    afterwards. Each of `rounds` rounds books `bookings` distinct slots and runs `searches`
    searches on one node, then on two."""
    server = database_url or os.environ.get("CDIP_TEST_POSTGRES_URL", DEFAULT_SERVER)
    if not server.startswith("postgres"):
        raise ValueError("--database-url: bench scale needs a PostgreSQL server "
                         "(nodes share one database)")
    rng = random.Random(seed)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    with scratch_database(server) as url:
        need = rounds * 2 * bookings + 4 * probes + 20
        world = build_world(url, weeks, need, 200, seed, session_share)
        free = free_plain_slots(world.engine)
        rng.shuffle(free)
        with running_nodes(url, {"a": {}, "b": {"CDIP_INDEX_CATCH_UP_LIMIT": RELOADING_LIMIT}}
                           ) as nodes:
            figures = _measure(world, nodes, free, rounds, bookings, booking_clients,
                               searches, search_clients, probes, rng, session_share)
        world.engine.dispose()
    return {"slots": world.slots, **figures, "cpus": os.cpu_count(),
            "elapsed_s": round(time.perf_counter() - started, 1),
            "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def _measure(world: BenchWorld, nodes: list[ServedNode], free: list[int], rounds: int,
             bookings: int, booking_clients: int, searches: int, search_clients: int,
             probes: int, rng: random.Random, share: float) -> dict:
    requests = iter(world.simple_requests)
    load_s = [_warm_up(node, world.varied_requests) for node in nodes]
    steady = [node.memory_mb() for node in nodes]
    load_peak = [node.memory_mb("VmHWM") for node in nodes]
    results: dict[int, list[dict]] = {1: [], 2: []}
    for number in range(rounds):
        for count in ((1, 2) if number % 2 == 0 else (2, 1)):
            used = nodes[:count]
            search = _search_phase(used, world.varied_requests, searches, search_clients, rng)
            booked = _booking_phase(world, used, nodes, requests, free, bookings,
                                    booking_clients)
            results[count].append({**search, **booked})
    quiet = _staleness(world, nodes, requests, free, probes)
    build = _build_while_probing(world, nodes, requests, free, probes, share)
    one, two = _medians(results[1]), _medians(results[2])
    return {
        "bookings_per_s_1_node": one["per_s"], "bookings_per_s_2_nodes": two["per_s"],
        "bookings_ratio_2_to_1": round(two["per_s"] / one["per_s"], 2),
        "search_p95_ms_1_node": one["p95"], "search_p95_ms_2_nodes": two["p95"],
        "staleness_p99_ms": quiet["p99"], "staleness_p50_ms": quiet["p50"],
        "staleness_p99_ms_during_diary_build": build["p99"],
        "staleness_max_ms_during_diary_build": build["max"],
        "staleness_p50_ms_during_diary_build": build["p50"],
        "staleness_ms_while_new_week_absorbed": {
            key: build["absorbing"][key] for key in ("p50", "p99", "max")}
        | {"waits": len(build["absorbing"]["all"])},
        "new_week_slots": build["slots"],
        "new_week_offered_after_commit_ms": build["offered_ms"],
        "memory_mb_steady": dict(zip("ab", steady, strict=True)),
        "memory_mb_peak_at_load": dict(zip("ab", load_peak, strict=True)),
        "memory_mb_peak_at_new_week": build["peak_mb"],
        "new_week_absorbed_by": {"a": "merge", "b": "reload"},
        "index_load_s": dict(zip("ab", load_s, strict=True)),
        "cpu_share_2_nodes": two["cpu"], "cpu_share_1_node": one["cpu"],
        "booking_errors": sum(r["errors"] for rs in results.values() for r in rs),
        "rounds": rounds, "bookings_per_round": bookings, "booking_clients": booking_clients,
        "search_clients": search_clients,
    }


def _warm_up(node: ServedNode, requests: Sequence[int]) -> float:
    """Seconds until the node answers a search (its index loaded), then a few kinds of
    request once each."""
    started = time.perf_counter()
    client = LoopbackClient(node.base, node.headers, timeout_s=300)
    while client.get(f"/api/requests/{requests[0]}/slots").status_code != 200:
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    for request_id in requests[:12]:
        client.get(f"/api/requests/{request_id}/slots")
    client.close()
    return round(elapsed, 1)


def _search_phase(nodes: list[ServedNode], requests: Sequence[int], count: int,
                  clients: int, rng: random.Random) -> dict:
    paths = [f"/api/requests/{requests[i % len(requests)]}/slots?sort="
             f"{'nearest' if rng.random() < 0.5 else 'soonest'}" for i in range(count)]
    answers, _ = _run(nodes, clients, [lambda c, p=p: c.get(p) for p in paths])
    return {"p95": float(np.percentile([ms for ms, _ in answers], 95))}


def _booking_phase(world: BenchWorld, used: list[ServedNode], every: list[ServedNode],
                   requests, free: list[int], count: int, clients: int) -> dict:
    calls = [_book_call(next(requests), free.pop()) for _ in range(count)]
    backends = _backend_pids(world)
    before = _cpu(every, backends)
    answers, elapsed = _run(used, clients, calls)
    after = _cpu(every, backends + _backend_pids(world))
    booked = sum(answer.status_code == 201 for _, answer in answers)
    spent = {part: after[part] - before[part] for part in after}
    total = sum(spent.values()) or 1.0
    return {"per_s": booked / elapsed, "errors": count - booked,
            "cpu": {part: round(value / total, 2) for part, value in spent.items()}}


def _cpu(nodes: list[ServedNode], backends: list[int]) -> dict[str, float]:
    own = os.times()
    return {"nodes": sum(node.cpu_s() for node in nodes),
            "postgresql": postgres_cpu_s(sorted(set(backends))),
            "clients": own.user + own.system}


def _backend_pids(world: BenchWorld) -> list[int]:
    """The server processes serving the benchmark's database (the nodes' pooled
    connections, opened at their first requests and kept)."""
    with world.engine.connect() as connection:
        return list(connection.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")).scalars())


def _book_call(request_id: int, slot_id: int) -> Call:
    body = {"request_id": request_id, "slot_id": slot_id}
    return lambda client: client.post("/api/appointments", body,
                                      {"Idempotency-Key": str(uuid.uuid4())})


def _run(nodes: list[ServedNode], clients: int, calls: Sequence[Call]
         ) -> tuple[list[tuple[float, Answer]], float]:
    """The calls on `clients` threads, thread i keeping one connection to node i mod N;
    returns (milliseconds, answer) per call and the elapsed seconds."""
    local, numbers = threading.local(), itertools.count()

    def run(call: Call) -> tuple[float, Answer]:
        client = getattr(local, "client", None)
        if client is None:
            node = nodes[next(numbers) % len(nodes)]
            client = local.client = LoopbackClient(node.base, node.headers)
        begun = time.perf_counter()
        answer = call(client)
        return (time.perf_counter() - begun) * 1000, answer

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = list(pool.map(run, calls))
    return answers, time.perf_counter() - started


def _medians(rounds: list[dict]) -> dict:
    return {"per_s": round(float(np.median([r["per_s"] for r in rounds])), 1),
            "p95": round(float(np.median([r["p95"] for r in rounds])), 1),
            "cpu": {part: round(float(np.median([r["cpu"][part] for r in rounds])), 2)
                    for part in rounds[0]["cpu"]}}


def _staleness(world: BenchWorld, nodes: list[ServedNode], requests, free: list[int],
               probes: int) -> dict:
    """Milliseconds from a booking's (then its cancellation's) answer on one node until the
    other node withdraws (offers again) the slot; directions alternate."""
    waits = []
    for number in range(probes):
        writer, reader = nodes[number % 2], nodes[1 - number % 2]
        waits += _probe(world, writer, reader, next(requests), free.pop())
    return _percentiles(waits)


def _probe(world: BenchWorld, writer: ServedNode, reader: ServedNode, request_id: int,
           slot_id: int) -> list[float]:
    site, day = _site_and_day(world, slot_id)
    path = (f"/api/requests/{request_id}/slots?limit=200&sites={site}"
            f"&from_date={day.isoformat()}&to_date={day.isoformat()}")
    look = LoopbackClient(reader.base, reader.headers)
    write = LoopbackClient(writer.base, writer.headers)

    def offered() -> bool:
        answer = look.get(path)
        return answer.status_code == 200 and any(
            offer["slot_id"] == slot_id for offer in answer.json()["slots"])

    try:
        if not offered():
            return []  # not among the reader's first 200 offers for that site and day
        booked = write.post("/api/appointments", {"request_id": request_id,
                                                  "slot_id": slot_id},
                            {"Idempotency-Key": str(uuid.uuid4())})
        if booked.status_code != 201:
            return []
        gone = _until(lambda: not offered())
        write.post(f"/api/appointments/{booked.json()['id']}/cancel", {"reason": "bench"},
                   {"Idempotency-Key": str(uuid.uuid4())})
        return [gone, _until(offered)]
    finally:
        look.close()
        write.close()


def _until(condition: Callable[[], bool], timeout_s: float = 30) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            break
        time.sleep(POLL_S)
    return (time.perf_counter() - started) * 1000


def _site_and_day(world: BenchWorld, slot_id: int) -> tuple[str, date]:
    with world.engine.connect() as connection:
        site, start = connection.execute(text(
            "SELECT site_id, start_at AT TIME ZONE 'Europe/London' FROM slot WHERE id = :id"),
            {"id": slot_id}).one()
    return site, start.date()


def _build_while_probing(world: BenchWorld, nodes: list[ServedNode], requests,
                         free: list[int], probes: int, share: float) -> dict:
    """A week of new slots written after the last one (sessions, then every slot in one
    COPY, as `cdip diary build` commits a week) while probes run, up to `probes` while it
    writes and up to `probes` more after its commit until both nodes offer the new week (the
    nodes merge or reload it then: the probes a merge could hold up); how long each node
    took to offer the new week after the commit, and its peak memory meanwhile."""
    for node in nodes:
        node.reset_peak_memory()
    network = load_reference_network()
    first_day = world.first_day + timedelta(weeks=_weeks_written(world))
    before = _slot_count(world)
    committed, absorbed = threading.Event(), threading.Event()
    committed_at: list[float] = []
    offered_ms: dict[str, float] = {}

    def build() -> None:
        write_diaries(world.engine, network, first_day, 1, share, random.Random(99))
        committed_at.append(time.perf_counter())
        committed.set()
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            offered = pool.map(lambda node: _new_week_offered(node, world, first_day,
                                                              committed_at[0]), nodes)
            offered_ms.update(zip((node.name for node in nodes), offered, strict=True))
        absorbed.set()

    builder = threading.Thread(target=build)
    builder.start()
    writing: list[float] = []
    absorbing: list[float] = []
    tried = {"writing": 0, "absorbing": 0}
    while not absorbed.is_set():
        phase = "absorbing" if committed.is_set() else "writing"
        if tried[phase] >= probes:
            if phase == "absorbing":
                break
            committed.wait()
            continue
        number = tried["writing"] + tried["absorbing"]
        tried[phase] += 1
        (absorbing if phase == "absorbing" else writing).extend(_probe(
            world, nodes[number % 2], nodes[1 - number % 2], next(requests), free.pop()))
    builder.join()
    after = _staleness(world, nodes, requests, free, 4)["all"]
    return {**_percentiles(writing + absorbing + after), "slots": _slot_count(world) - before,
            "offered_ms": offered_ms, "absorbing": _percentiles(absorbing),
            "peak_mb": {node.name: node.memory_mb("VmHWM") for node in nodes}}


def _new_week_offered(node: ServedNode, world: BenchWorld, first_day: date,
                      committed: float) -> float:
    """Milliseconds from the new week's commit until this node offers any slot in it."""
    client = LoopbackClient(node.base, node.headers, timeout_s=300)
    path = (f"/api/requests/{world.simple_requests[0]}/slots?from_date={first_day}"
            f"&to_date={first_day + timedelta(days=6)}&limit=1")
    try:
        while True:
            answer = client.get(path)
            if answer.status_code == 200 and answer.json()["slots"]:
                return round((time.perf_counter() - committed) * 1000, 1)
            if time.perf_counter() - committed > 120:
                return float("inf")
            time.sleep(POLL_S)
    finally:
        client.close()


def _weeks_written(world: BenchWorld) -> int:
    with world.engine.connect() as connection:
        last = connection.execute(text("SELECT max(session_date) FROM diary_session")).scalar()
    return (last - world.first_day).days // 7 + 1


def _slot_count(world: BenchWorld) -> int:
    with world.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM slot")).scalar_one())


def _percentiles(waits: list[float]) -> dict:
    if not waits:
        return {"p50": None, "p99": None, "max": None, "all": []}
    return {"p50": round(float(np.percentile(waits, 50)), 1),
            "p99": round(float(np.percentile(waits, 99)), 1),
            "max": round(max(waits), 1), "all": waits}
