"""Real `cdip serve` processes on one PostgreSQL database, for the multi-node tests: a fresh
database with the tiny network, a morning of X-ray slots on a coming weekday, a clerk and
appointable requests; nodes started on free loopback ports (optionally with a skewed clock or
through PgBouncer) and killed at the end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from booking_api.access.models import AccountRole
from booking_api.core import migrate
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.network.services import mirror_reference_data
from booking_api.slots.models import DiarySession, Slot
from cdip_bench.booking import wait_until_up as serving
from domain.lifecycle import SlotStatus
from domain.network import Network
from domain.vocabulary import Modality, SessionPeriod
from tests.booking_api.access_support import PASSWORD, add_staff
from tests.booking_api.booking_world import add_patients

CLERK = "nina.node"
LONDON = ZoneInfo("Europe/London")
SLOT_MINUTES = 10


@dataclass
class Node:
    name: str
    base: str
    process: subprocess.Popen
    headers: dict[str, str] | None = None

    def get(self, path: str, **params) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params=params, headers=self.headers, timeout=30)

    def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return httpx.post(f"{self.base}{path}", json=body, timeout=30, headers={
            **(self.headers or {}), "Idempotency-Key": str(uuid.uuid4())})

    def offered(self, request_id: int, day: date) -> set[int]:
        """Slot ids this node offers the request on `day`."""
        answer = self.get(f"/api/requests/{request_id}/slots", limit=200,
                          from_date=day.isoformat(), to_date=day.isoformat())
        answer.raise_for_status()
        return {offer["slot_id"] for offer in answer.json()["slots"]}

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@dataclass
class Cluster:
    url: str
    engine: Engine
    day: date
    slots: list[int]
    requests: list[int]
    session_id: int


def bookable_day(today: date | None = None) -> date:
    """A weekday at least two days ahead (both tiny sites are open on weekdays)."""
    day = (today or datetime.now(LONDON).date()) + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@contextmanager
def cluster_database(admin_url: str, network: Network, catalogue: dict,
                     requests: int = 120, slots: int = 24) -> Iterator[Cluster]:
    """A fresh, migrated PostgreSQL database (dropped afterwards) with one X-ray room's
    morning of slots on `bookable_day()`, a clerk and `requests` appointable requests."""
    name = f"cdip_nodes_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    base = make_url(admin_url).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = None
    try:
        migrate.upgrade(url)
        engine = open_engine(url)
        day = bookable_day()
        with transaction(engine) as session:
            mirror_reference_data(session, network, catalogue)
            diary = DiarySession(room_id="S1-XR1", session_date=day,
                                 period=SessionPeriod.MORNING, template_id="XR_PLAIN_GEN")
            session.add(diary)
            session.flush()
            session_id = diary.id
            _, request_ids = add_patients(session, requests, "XCHES")
        slot_ids = add_slots(engine, session_id, day, 0, slots)
        add_staff(engine, CLERK, AccountRole.CLERK)
        yield Cluster(url, engine, day, slot_ids, request_ids, session_id)
    finally:
        if engine is not None:
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def slot_rows(session_id: int, day: date, first: int, count: int,
              stamp: datetime | None = None) -> list[dict]:
    """Rows of `count` back-to-back slots of room S1-XR1 from the `first`-th of the morning."""
    start = datetime.combine(day, SessionPeriod.MORNING.start, tzinfo=LONDON).astimezone(UTC)
    step = timedelta(minutes=SLOT_MINUTES)
    return [{"session_id": session_id, "room_id": "S1-XR1", "site_id": "S1",
             "start_at": start + step * i, "end_at": start + step * (i + 1),
             "modality": Modality.XR, "families": "XR_PLAIN", "template_id": "XR_PLAIN_GEN",
             "status": SlotStatus.FREE, "version": 1,
             "changed_at": stamp or datetime.now(UTC)} for i in range(first, first + count)]


def add_slots(engine: Engine, session_id: int, day: date, first: int, count: int) -> list[int]:
    with engine.begin() as connection:
        return list(connection.scalars(insert(Slot).returning(Slot.id),
                                       slot_rows(session_id, day, first, count)))


@contextmanager
def running_node(name: str, database_url: str, **environment: str) -> Iterator[Node]:
    """`cdip serve` on a free port with its index follower on, signed in as the clerk."""
    with running_nodes(database_url, {name: environment}) as (node,):
        yield node


@contextmanager
def running_nodes(database_url: str, nodes: dict[str, dict[str, str]]
                  ) -> Iterator[tuple[Node, ...]]:
    """Several nodes (name: extra environment), started at once (each takes seconds to
    import the service on a busy machine), each signed in as the clerk."""
    with ExitStack() as stack:
        started = [stack.enter_context(_started_node(name, database_url, environment))
                   for name, environment in nodes.items()]
        for node in started:
            wait_until_up(node)
            answer = httpx.post(f"{node.base}/api/auth/staff/sign-in", timeout=30,
                                json={"username": CLERK, "password": PASSWORD})
            answer.raise_for_status()
            node.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield tuple(started)


@contextmanager
def _started_node(name: str, database_url: str, environment: dict[str, str]
                  ) -> Iterator[Node]:
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix=f"cdip-{name}-"))
    env = {**os.environ, "CDIP_DATABASE_URL": database_url, "CDIP_ENVIRONMENT": "test",
           "CDIP_INDEX_FOLLOW_SECONDS": "0.1", "CDIP_HOLD_SWEEP_SECONDS": "0",
           **environment}
    cdip = Path(sys.executable).with_name("cdip")
    log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([str(cdip), "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield Node(name, f"http://127.0.0.1:{port}", process)
    finally:
        if process.poll() is None:
            process.kill()  # nothing to finish: every test checks what the database holds
            process.wait(15)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def wait_until_up(node: Node, timeout_s: float = 180) -> None:
    serving(node.base, node.process, timeout_s, f"node {node.name}")


def wait_for(condition, timeout_s: float = 5.0, every_s: float = 0.02,
             since: float | None = None) -> float:
    """Seconds from `since` (default: now) until the check that found `condition()` true
    began (a check is a search over HTTP: on a loaded machine its own round trip would
    otherwise count as staleness); fails after `timeout_s`."""
    started = time.monotonic() if since is None else since
    while True:
        asked = time.monotonic()
        if condition():
            return asked - started
        if asked - started > timeout_s:
            raise AssertionError(f"not within {timeout_s} s")
        time.sleep(every_s)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slot_invariant_breaches(engine: Engine) -> int:
    """Slots with two active appointments, and slots whose status disagrees with whether an
    active appointment holds them (busy or busy-tentative exactly when one does)."""
    with engine.connect() as connection:
        return int(connection.execute(text("""
            SELECT count(*) FROM slot s
            LEFT JOIN (SELECT slot_id, count(*) AS n FROM appointment
                       WHERE state IN ('held', 'booked') GROUP BY slot_id) a
                   ON a.slot_id = s.id
            WHERE coalesce(a.n, 0) > 1
               OR (coalesce(a.n, 0) = 1) <> (s.status IN ('busy', 'busy-tentative'))
        """)).scalar_one())
