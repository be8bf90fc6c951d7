"""The runner: runs periodic jobs and drains queues in threads of this process, until told
to stop. The same runner runs inside `cdip serve` (the embedded default) and as `cdip worker`
(any number of processes sharing PostgreSQL); what it runs is composed above every context
(`booking_api.background`).

One thread per periodic job wakes at each period boundary (and now and then within a period,
to take over a run whose process died). One thread per drainer claims work when it has room
and hands each item to a small pool of its own; with nothing due it sleeps `idle_poll_s` or
until woken (`wake`). Any failure is logged and tried again: a runner outlives a database
restart or a provider outage."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from booking_api.core.db import Database
from booking_api.jobs.leases import runner_name
from booking_api.jobs.periodic import PeriodicJob, finish_period, start_period

logger = logging.getLogger(__name__)
TAKE_OVER_CHECK = timedelta(seconds=60)
ERROR_PAUSE_S = 1.0


@dataclass(frozen=True)
class Drainer:
    """A queue to drain: `claim(n)` leases up to n due items (its own transaction) and
    `handle(item)` does one, recording its outcome itself."""

    name: str
    claim: Callable[[int], Sequence[Any]]
    handle: Callable[[Any], None]
    concurrency: int = 1
    idle_poll_s: float = 0.5


def wall_clock() -> datetime:
    return datetime.now(UTC)


class JobRunner:
    def __init__(self, database: Database, periodic: Sequence[PeriodicJob] = (),
                 drainers: Sequence[Drainer] = (), owner: str | None = None) -> None:
        self.database = database
        self.periodic = tuple(periodic)
        self.drainers = tuple(drainers)
        self.owner = owner or runner_name()
        self._stop = threading.Event()
        self._wakes = {drainer.name: threading.Event() for drainer in self.drainers}
        self._threads: list[threading.Thread] = []

    def start(self) -> JobRunner:
        for job in self.periodic:
            self._spawn(f"periodic-{job.name}", self._run_periodically, job)
        for drainer in self.drainers:
            self._spawn(f"drain-{drainer.name}", self._drain, drainer)
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop claiming; wait up to `timeout_s` for work in hand to finish."""
        self._stop.set()
        for wake in self._wakes.values():
            wake.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait(self) -> None:
        """Block until `stop` is called (from a signal handler, say)."""
        while not self._stop.wait(1.0):
            pass

    def wake(self, drainer_name: str) -> None:
        """Have a drainer look for work now instead of at its next poll."""
        wake = self._wakes.get(drainer_name)
        if wake is not None:
            wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        thread.start()
        self._threads.append(thread)

    # --- periodic jobs ---------------------------------------------------------------------

    def _run_periodically(self, job: PeriodicJob) -> None:
        settled: datetime | None = None  # the last period run here or known finished
        while not self._stop.is_set():
            now = wall_clock()
            period = job.period_start(now)
            if period != settled:
                try:
                    if start_period(self.database, job, period, self.owner, now):
                        self._run_period(job, period)
                        settled = period
                except Exception:
                    logger.exception("periodic job could not start", extra={
                        "event": "periodic_job_error", "job": job.name})
            next_period = period + job.every
            pause = min(next_period - wall_clock(), TAKE_OVER_CHECK, job.every)
            self._stop.wait(max(pause.total_seconds(), 0.001))

    def _run_period(self, job: PeriodicJob, period: datetime) -> None:
        started = time.monotonic()
        try:
            outcome = f"ok: {job.run()}"
        except Exception as error:
            logger.exception("periodic job failed", extra={"event": "periodic_job_failed",
                                                            "job": job.name})
            outcome = f"failed: {error!r}"
        finish_period(self.database, job, period, self.owner, wall_clock(), outcome)
        logger.debug("periodic job ran", extra={
            "event": "periodic_job_ran", "job": job.name, "outcome": outcome,
            "seconds": round(time.monotonic() - started, 3)})

    # --- queues ----------------------------------------------------------------------------

    def _drain(self, drainer: Drainer) -> None:
        room = threading.Semaphore(drainer.concurrency)
        wake = self._wakes[drainer.name]
        with ThreadPoolExecutor(drainer.concurrency,
                                thread_name_prefix=f"{drainer.name}-worker") as pool:
            while not self._stop.is_set():
                free = _take_all(room, drainer.concurrency, wake, self._stop)
                if not free:
                    continue
                try:
                    items = list(drainer.claim(free))
                except Exception:
                    logger.exception("claiming failed", extra={"event": "claim_failed",
                                                                "queue": drainer.name})
                    items = []
                    self._stop.wait(ERROR_PAUSE_S)
                for _ in range(free - len(items)):
                    room.release()
                for item in items:
                    pool.submit(self._handle, drainer, item, room)
                if not items:
                    wake.wait(drainer.idle_poll_s)
                    wake.clear()

    def _handle(self, drainer: Drainer, item: Any, room: threading.Semaphore) -> None:
        try:
            drainer.handle(item)
        except Exception:
            logger.exception("work item failed; it runs again when its lease lapses",
                             extra={"event": "work_item_failed", "queue": drainer.name})
        finally:
            room.release()
            self._wakes[drainer.name].set()


def _take_all(room: threading.Semaphore, most: int, wake: threading.Event,
              stop: threading.Event) -> int:
    """Wait for at least one free place (or a wake-up), then take every free place."""
    if not room.acquire(timeout=0.2):
        wake.clear()
        return 0
    taken = 1
    while taken < most and room.acquire(blocking=False):
        taken += 1
    return 0 if stop.is_set() and not _give_back(room, taken) else taken


def _give_back(room: threading.Semaphore, count: int) -> bool:
    for _ in range(count):
        room.release()
    return False
