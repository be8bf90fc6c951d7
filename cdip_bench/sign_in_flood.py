"""`cdip bench signin`: what a burst of concurrent staff sign-ins (argon2 at the service's
real cost, 64 MiB each) does to a real server, with the service's bounded hashing
(CDIP_PASSWORD_HASH_CONCURRENCY) against the same server allowed as many checks at once as
there are callers (the unbounded baseline), measured in the same run: the server process's
peak memory, `/health` latency while the burst runs, and the answers by status.

Each caller signs in to an account of its own from an address of its own (named in
X-Forwarded-For, the server trusting loopback as its proxy), so the sign-in limits, which
count an attempt in flight as failed until it succeeds, do not hide the hashing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from booking_api.access.models import AccountRole, StaffCreate
from booking_api.access.policy import DEFAULT_POLICY
from booking_api.access.services import create_staff
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from cdip_bench.booking import wait_until_up

PASSWORD = "bench sign-in flood pass phrase"


def sign_in_flood_benchmark(concurrent: int = 60, rounds: int = 3,
                            hash_slots: int = 2) -> dict:
    """`concurrent` staff sign-ins at once, `rounds` times, against each server."""
    with tempfile.TemporaryDirectory(prefix="cdip-signin-") as folder:
        url = f"sqlite:///{Path(folder) / 'signin.sqlite3'}"
        _prepare(url, concurrent)
        figures = {}
        for label, slots in (("unbounded", concurrent), ("bounded", hash_slots)):
            with _server(url, slots) as (base, pid):
                figures[label] = _flood(base, pid, concurrent, rounds)
    bounded, unbounded = figures["bounded"], figures["unbounded"]
    return {
        "concurrent_sign_ins": concurrent, "rounds": rounds, "hash_slots": hash_slots,
        "unbounded": unbounded, "bounded": bounded,
        "peak_rss_ratio": round(bounded["peak_rss_mib"] / unbounded["peak_rss_mib"], 2),
        "health_p95_ratio": round(bounded["health_p95_ms"]
                                  / max(unbounded["health_p95_ms"], 0.001), 2),
    }


def _prepare(url: str, accounts: int) -> None:
    migrate.upgrade(url)
    engine = open_engine(url)
    try:
        with transaction(engine) as session:
            for number in range(accounts):
                create_staff(session, Actor("bench:signin", Channel.SYSTEM), StaffCreate(
                    username=_username(number), display_name="Bench Clerk",
                    role=AccountRole.CLERK, password=PASSWORD),
                    DEFAULT_POLICY.password_hasher)
    finally:
        engine.dispose()


def _flood(base: str, pid: int, concurrent: int, rounds: int) -> dict:
    statuses: Counter[int] = Counter()
    sign_in_ms: list[float] = []
    health_ms: list[float] = []
    for _ in range(rounds):
        stop = threading.Event()
        prober = threading.Thread(target=_probe_health, args=(base, stop, health_ms))
        prober.start()
        barrier = threading.Barrier(concurrent)
        threads = [threading.Thread(target=_sign_in, args=(base, number, barrier, statuses,
                                                             sign_in_ms))
                   for number in range(concurrent)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        prober.join()
    return {"answers": {str(code): count for code, count in sorted(statuses.items())},
            "sign_in_p95_ms": _p95(sign_in_ms), "sign_in_max_ms": round(max(sign_in_ms), 1),
            "health_p95_ms": _p95(health_ms), "health_max_ms": round(max(health_ms), 1),
            "peak_rss_mib": _peak_rss_mib(pid)}


def _sign_in(base: str, number: int, barrier: threading.Barrier, statuses: Counter[int],
             elapsed: list[float]) -> None:
    barrier.wait()
    started = time.perf_counter()
    answer = httpx.post(f"{base}/api/auth/staff/sign-in", timeout=120,
                        json={"username": _username(number), "password": PASSWORD},
                        headers={"X-Forwarded-For": f"10.{number // 250}.{number % 250}.1"})
    elapsed.append((time.perf_counter() - started) * 1000)
    statuses[answer.status_code] += 1


def _probe_health(base: str, stop: threading.Event, elapsed: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/health")
            elapsed.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)


def _username(number: int) -> str:
    return f"bench.clerk{number}"


def _p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 1) if values else 0.0


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@contextmanager
def _server(url: str, hash_slots: int) -> Iterator[tuple[str, int]]:
    """One uvicorn process serving the app on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CDIP_DATABASE_URL": url, "CDIP_ENVIRONMENT": "test",
           "CDIP_PASSWORD_HASH_CONCURRENCY": str(hash_slots),
           "CDIP_TRUSTED_PROXIES": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cdip_web.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log", "--no-proxy-headers"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, timeout_s=180)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()

