"""Keeping a process's idempotency claims alive, so that a dead process's claims are seen as
dead within seconds rather than minutes.

Each claim row names its owner (this process: host, pid and a random boot id) and a short
lease (`CLAIM_LEASE`). While the work runs, one daemon thread per process renews the leases
of all the process's claims every `RENEW_EVERY_S`, in one statement. If the process dies (or
hangs, or loses its database), its renewals stop and a duplicate arriving after the lease
takes the claim over (if the dead work never committed) or is told the response was lost
(if it did): never "still in progress" for minutes.

The lease is counted from the claim's own `now` plus the real time elapsed since, so tests
with a moved clock and servers on the wall clock renew alike."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, bindparam, update

from booking_api.core.db import bookkeeping_transaction
from booking_api.idempotency.models import IdempotencyRecord, KeyState

CLAIM_LEASE = timedelta(seconds=15)
"""A claim not renewed for this long is dead: its owner has gone."""
RENEW_EVERY_S = 5.0
"""Renewals per lease: three, so one late or failed renewal does not kill a live claim."""
PROCESS_OWNER = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
"""Who claims in this process (a new boot id each start: a restarted process with the same
pid is a different owner)."""
logger = logging.getLogger(__name__)


class _Claim(Protocol):
    @property
    def record_id(self) -> int: ...

    @property
    def claimed_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class _Held:
    engine: Engine
    claimed_at: datetime
    since: float


class ClaimRenewer:
    """The claims one process is working on, and the thread renewing their leases."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._held: dict[int, _Held] = {}
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def keep_alive(self, engine: Engine, record_id: int, claimed_at: datetime) -> None:
        """Renew this claim's lease until `let_go`."""
        with self._lock:
            self._held[record_id] = _Held(engine, claimed_at, self._monotonic())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="idempotency-lease-renewer")
                self._thread.start()
            self._lock.notify()

    def let_go(self, record_id: int) -> None:
        with self._lock:
            self._held.pop(record_id, None)

    def renew_now(self) -> int:
        """Renew every held claim's lease now; returns how many rows were renewed."""
        with self._lock:
            held = dict(self._held)
        renewed = 0
        by_engine: dict[Engine, list[dict]] = {}
        now = self._monotonic()
        for record_id, claim in held.items():
            until = claim.claimed_at + timedelta(seconds=now - claim.since) + CLAIM_LEASE
            by_engine.setdefault(claim.engine, []).append(
                {"record_id": record_id, "until": until})
        for engine, rows in by_engine.items():
            try:
                with bookkeeping_transaction(engine) as connection:
                    renewed += connection.execute(_RENEW, rows).rowcount or 0
            except Exception as error:  # the database is away: the leases may lapse
                logger.warning("could not renew idempotency claims' leases", extra={
                    "event": "idempotency_lease_renewal_failed",
                    "error": type(error).__name__, "claims": len(rows)})
        return renewed

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._held:
                    self._lock.wait()
            time.sleep(RENEW_EVERY_S)
            self.renew_now()


_RENEW = (update(IdempotencyRecord)
          .where(IdempotencyRecord.id == bindparam("record_id"),
                 IdempotencyRecord.state == KeyState.IN_PROGRESS)
          .values(lease_until=bindparam("until")))

RENEWER = ClaimRenewer()
"""The process's renewer (the idempotent routes and forms keep their claims alive here)."""


@contextmanager
def kept_alive(engine: Engine, claim: _Claim) -> Iterator[None]:
    """Renew `claim`'s lease (through `engine`, the bookkeeping engine) while the block runs."""
    if claim.claimed_at is None:
        yield
        return
    RENEWER.keep_alive(engine, claim.record_id, claim.claimed_at)
    try:
        yield
    finally:
        RENEWER.let_go(claim.record_id)
