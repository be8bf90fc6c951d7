"""`cdip bench interop`: HL7 orders accepted per second over MLLP by a real `cdip serve-mllp`
on 127.0.0.1, each acknowledged once and none duplicated on resend; status out with the
receiving end down for a stretch and back (every row sent, none lost); FHIR Slot search p95
over HTTP across the reference network's six weeks of diaries.

Phases: a scratch database with the reference network and `weeks` of diaries (as `cdip
bench booking` builds them), the order-code map and one HL7 subscriber (the sender's own
orders) whose port is closed; FHIR Slot searches against a real uvicorn server, with
/health's p95 in the same run as the machine's baseline; a baseline for HL7 in the same run
(reading each message and building its ACK in this process, no database); `orders` new
ORM^O01 over `clients` MLLP connections; a resend of `resends` of them (the same bytes: the
same ACK, no new request); then the outbound worker tries with the receiver down for
`down_s`, the receiver comes up, and the rows drain. Traffic stays on loopback; every phase
is bounded in count and time."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import func, select

from booking_api.core.db import transaction
from booking_api.database import open_database, open_engine
from booking_api.interop.delivery import DeliveryPolicy, OutboundWorker
from booking_api.interop.hl7.acks import build_ack
from booking_api.interop.hl7.mllp import MllpClient
from booking_api.interop.hl7.order_messages import read_header, read_order
from booking_api.interop.models import (
    AckCode,
    OutboundMessage,
    OutboundState,
    Protocol,
    Subscriber,
    SubscriberScope,
)
from booking_api.interop.order_codes import SHIPPED_MAP, load_code_map, read_code_map
from booking_api.network.models import Room
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from cdip_bench.booking import _clerk_headers, _free_port, running_server
from cdip_bench.booking_client import LoopbackClient
from cdip_bench.booking_data import build_world, scratch_database
from cdip_bench.interop_receiver import receiving_end
from domain.nhs_number import nhs_test_numbers

EXAMS = ("XCHES", "XKNEE", "CHEAD", "MBRAI", "UABDO", "XHAND")


def interop_benchmark(database_url: str = "", orders: int = 2000, clients: int = 8,
                      resends: int = 200, concurrency: int = 8, listener_workers: int = 2,
                      down_s: float = 3.0, drain_timeout_s: float = 120.0, weeks: int = 6,
                      searches: int = 400, search_clients: int = 4, server_workers: int = 2,
                      seed: int = 7) -> dict:
    """HL7 orders/s over MLLP (target >= 100 on PostgreSQL: pass --database-url), resends
    processed once, outbound status rows lost with the receiver down (target 0), and FHIR
    Slot search p95 over the reference network's `weeks` of diaries (target <= 100 ms)."""
    if weeks < 2:
        raise ValueError("--weeks: at least 2 (each search asks for a week's window starting "
                         "within the diaries)")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    numbers = nhs_test_numbers(orders, start=100_000)
    messages = [order_message(i, numbers[i]) for i in range(orders)]
    baseline = _baseline_per_s(messages[: min(orders, 500)])
    with scratch_database(database_url or None) as url:
        receiver_port = _free_port()
        world = build_world(url, weeks, 1, 1, seed, 0.6)  # (none: an empty insert)
        world.engine.dispose()
        _prepare(url, receiver_port)
        figures_fhir = fhir_slot_search(url, world.first_day, weeks, searches,
                                        search_clients, server_workers, seed)
        with _listener(url, concurrency, listener_workers) as port:
            figures = _orders_phase(port, messages, clients)
            figures |= _resend_phase(port, messages[:resends], clients, figures.pop("acks"))
        figures |= _outbound_phase(url, receiver_port, down_s, drain_timeout_s, orders)
        figures["requests_created"] = _count_requests(url)
    figures["duplicated_requests"] = figures["requests_created"] - orders - 2  # the world's 2
    figures |= figures_fhir
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "orders": orders, "clients": clients, "listener_concurrency": concurrency,
            "listener_workers": listener_workers,
            **figures, "baseline_parse_ack_per_s": round(baseline, 1),
            "ratio_to_baseline": round(figures["orders_per_s"] / baseline, 4),
            "elapsed_s": round(time.perf_counter() - started, 1), "cpus": os.cpu_count(),
            "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def order_message(index: int, nhs: str) -> str:
    """A new ORM^O01 for a distinct test-range patient, control id and placer order."""
    exam = EXAMS[index % len(EXAMS)]
    return "\r".join([
        f"MSH|^~\\&|BENCHOCS|RQ3|CDIP|WMIN|20261201090000||ORM^O01^ORM_O01|B{index:08d}|P|2.5.1",
        f"PID|1||{nhs}^^^NHS^NH||PATIENT{index}^BENCH{index}||"
        f"19{50 + index % 50:02d}0{1 + index % 9}1{index % 9}|F|||"
        f"{index} HIGH STREET^^BIRMINGHAM^^B15 2TH",
        f"ORC|NW|BP{index:08d}^BENCHOCS|||||||20261201085500|||G8123456^JONES^ALAN^^^DR",
        f"OBR|1|BP{index:08d}^BENCHOCS||{exam}^{exam}^NICIP|||||||||Benchmark order"])


def _prepare(url: str, receiver_port: int) -> None:
    db = open_database(url)
    try:
        with db.transaction() as session:
            load_code_map(session, read_code_map(SHIPPED_MAP))
            session.add(Subscriber(name="bench-ocs", protocol=Protocol.HL7V2,
                                   endpoint=f"127.0.0.1:{receiver_port}",
                                   scope=SubscriberScope.OWN_ORDERS, placer_system="BENCHOCS"))
    finally:
        db.dispose()


class _listener:
    """`cdip serve-mllp` in a child process on a free port, stopped afterwards."""

    def __init__(self, url: str, concurrency: int, workers: int) -> None:
        self.url, self.concurrency, self.port = url, concurrency, _free_port()
        self.workers = workers

    def __enter__(self) -> int:
        env = {**os.environ, "CDIP_DATABASE_URL": self.url, "CDIP_ENVIRONMENT": "test"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cdip_cli.main", "serve-mllp", "--port", str(self.port),
             "--concurrency", str(self.concurrency), "--workers", str(self.workers)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                MllpClient("127.0.0.1", self.port, 1.0).close()
                return self.port
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("cdip serve-mllp exited at start") from None
                time.sleep(0.2)
        raise RuntimeError("cdip serve-mllp did not start within 60 s")

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)


def _send_all(port: int, messages: list[str], clients: int) -> tuple[list[str], list[float]]:
    shares = [messages[i::clients] for i in range(clients)]

    def run(share: list[str]) -> list[tuple[str, str, float]]:
        out = []
        with MllpClient("127.0.0.1", port, 30.0) as client:
            for message in share:
                began = time.perf_counter()
                out.append((message, client.send(message), time.perf_counter() - began))
        return out

    with ThreadPoolExecutor(clients) as pool:
        results = [item for part in pool.map(run, shares) for item in part]
    by_message = {message: ack for message, ack, _ in results}
    return [by_message[m] for m in messages], [seconds for _, _, seconds in results]


def _orders_phase(port: int, messages: list[str], clients: int) -> dict:
    began = time.perf_counter()
    acks, latencies = _send_all(port, messages, clients)
    seconds = time.perf_counter() - began
    accepted = sum(1 for ack in acks if "\rMSA|AA|" in ack)
    answered_own = sum(1 for message, ack in zip(messages, acks, strict=True)
                       if f"|{message.split('|')[9]}" in ack.split("\r")[1])
    return {"orders_per_s": round(len(messages) / seconds, 1), "accepted": accepted,
            "acks_naming_their_message": answered_own,
            "ack_p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
            "ack_p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1),
            "acks": acks}


def _resend_phase(port: int, messages: list[str], clients: int, first: list[str]) -> dict:
    acks, _ = _send_all(port, messages, clients)
    same = sum(1 for a, b in zip(acks, first, strict=False) if a == b)
    return {"resent": len(messages), "resends_answered_with_the_same_ack": same}


def _outbound_phase(url: str, port: int, down_s: float, timeout_s: float,
                    orders: int) -> dict:
    db = open_database(url)
    policy = DeliveryPolicy(base_delay_s=0.2, max_delay_s=1.0, timeout_s=2.0)
    worker = OutboundWorker(db, lambda: datetime.now(UTC), policy, batch=50)
    try:
        began = time.monotonic()
        while time.monotonic() - began < down_s:  # the receiving end is down
            worker.drain_once()
            time.sleep(0.1)
        with receiving_end(port) as received:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and _unsent(db) > 0:
                if worker.drain_once() == 0:
                    time.sleep(0.05)
        with db.reading() as session:
            rows = session.scalar(select(func.count()).select_from(OutboundMessage)) or 0
            sent = session.scalar(select(func.count()).select_from(OutboundMessage).where(
                OutboundMessage.state == OutboundState.SENT)) or 0
        control_ids = received.control_ids()
        return {"outbound_rows": rows, "outbound_sent": sent,
                "outbound_lost": rows - len(set(control_ids)),
                "outbound_received_twice": len(control_ids) - len(set(control_ids)),
                "receiver_down_s": down_s}
    finally:
        db.dispose()


def _unsent(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.state != OutboundState.SENT)) or 0


def _count_requests(url: str) -> int:
    db = open_database(url)
    try:
        with db.reading() as session:
            return session.scalar(select(func.count()).select_from(Request)) or 0
    finally:
        db.dispose()


def fhir_slot_search(url: str, first_day: date, weeks: int, searches: int, clients: int,
                     server_workers: int, seed: int) -> dict:
    """p50/p95 of GET /fhir/Slot over HTTP (a week's window, a modality, sometimes a room,
    with _include now and then), against /health's p95 in the same run."""
    rng = random.Random(seed)
    with transaction(open_engine(url)) as session:
        rooms = [(r.room_id, str(r.modality)) for r in session.scalars(select(Room))]
    queries = []
    for _ in range(searches):
        room, modality = rng.choice(rooms)
        day = first_day + timedelta(days=rng.randrange(weeks * 7 - 7))
        params = [("status", "free"), ("start", f"ge{day.isoformat()}"),
                  ("start", f"lt{(day + timedelta(days=7)).isoformat()}"),
                  ("service-type", modality), ("_count", "50")]
        if rng.random() < 0.5:
            params.append(("schedule", f"Schedule/{room}"))
        if rng.random() < 0.3:
            params.append(("_include", "Slot:schedule"))
        queries.append(params)
    with running_server(url, server_workers) as base:
        headers = _clerk_headers(base)
        _timed(base, "/fhir/Slot", queries[:20], headers, clients)  # warm-up
        fhir = _timed(base, "/fhir/Slot", queries, headers, clients)
        health = _timed(base, "/health", [[] for _ in queries], {}, clients)
    return {"slot_rows": _count_slots(url), "fhir_slot_searches": searches,
            "fhir_slot_search_p50_ms": round(float(np.percentile(fhir, 50)), 1),
            "fhir_slot_search_p95_ms": round(float(np.percentile(fhir, 95)), 1),
            "health_p95_ms": round(float(np.percentile(health, 95)), 1)}


def _timed(base: str, path: str, queries: list, headers: dict, clients: int) -> list[float]:
    """Latency of each query, sent by `clients` threads that each keep one connection open
    (as a RIS would). A new httpx client per request costs tens of ms of the same two cores
    the server runs on, and was most of what the first figures (and /health's) measured."""
    local = threading.local()
    opened: list[LoopbackClient] = []

    def one(params: list[tuple[str, str]]) -> float:
        if not hasattr(local, "client"):
            local.client = LoopbackClient(base, headers)
            opened.append(local.client)
        began = time.perf_counter()
        answer = local.client.get(f"{path}?{urlencode(params)}" if params else path)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} answered {answer.status_code}")
        return (time.perf_counter() - began) * 1000

    try:
        with ThreadPoolExecutor(clients) as pool:
            return list(pool.map(one, queries))
    finally:
        for client in opened:
            client.close()


def _count_slots(url: str) -> int:
    engine = open_engine(url)
    try:
        with transaction(engine) as session:
            return session.scalar(select(func.count()).select_from(Slot)) or 0
    finally:
        engine.dispose()


def _baseline_per_s(messages: list[str]) -> float:
    """Messages read and acknowledged per second in this process, without a database."""
    now = datetime.now(UTC)
    began = time.perf_counter()
    for index, message in enumerate(messages):
        header = read_header(message)
        read_order(message, header)
        build_ack(header, AckCode.ACCEPT, f"A{index}", now, text="received")
    return len(messages) / (time.perf_counter() - began)
