"""The one job mechanism, on SQLite and PostgreSQL: claims hand each due row to one worker
however many ask at once; a lapsed lease hands it on; a periodic job runs once per period
across any number of runners, and a period whose runner died is taken over; failing jobs are
retried with backoff and end dead; the runner drains queues and runs periodic jobs."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from booking_api.core.db import Database
from booking_api.jobs.backoff import RetryPolicy
from booking_api.jobs.models import Job, JobState, PeriodicRun
from booking_api.jobs.periodic import PeriodicJob, start_period
from booking_api.jobs.queue import claim_jobs, enqueue, run_job
from booking_api.jobs.runner import Drainer, JobRunner, wall_clock
from tests.booking_api.booking_world import NOW, booking_engine, migrated_engine
from tests.booking_api.outbox_support import database_of

__all__ = ["booking_engine", "migrated_engine"]


@pytest.fixture
def db(booking_engine: Engine) -> Database:
    return database_of(booking_engine)


def _queue(db: Database, count: int, kind: str = "work") -> None:
    with db.transaction() as session:
        for number in range(count):
            enqueue(session, kind, {"n": number}, run_at=NOW)


def _states(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())


def test_concurrent_claims_take_disjoint_jobs(db: Database) -> None:
    _queue(db, 60)

    def claim_all(worker: int) -> list[int]:
        mine = []
        while batch := claim_jobs(db, f"worker-{worker}", NOW, 4, frozenset({"work"})):
            mine.extend(job.id for job in batch)
        return mine

    with ThreadPoolExecutor(6) as pool:
        claims = list(pool.map(claim_all, range(6)))

    taken = [job for mine in claims for job in mine]
    assert len(taken) == len(set(taken)) == 60


def test_a_job_whose_lease_lapsed_is_claimed_again_and_counts_an_attempt(db: Database) -> None:
    _queue(db, 1)
    [first] = claim_jobs(db, "dies", NOW, 1, frozenset({"work"}), lease=timedelta(minutes=5))

    assert claim_jobs(db, "other", NOW + timedelta(minutes=4), 1, frozenset({"work"})) == []
    [again] = claim_jobs(db, "other", NOW + timedelta(minutes=6), 1, frozenset({"work"}))

    assert (again.id, again.attempts) == (first.id, 2)


def test_a_dedupe_key_queues_one_job_however_often_it_is_asked(db: Database) -> None:
    for _ in range(3):
        with db.transaction() as session:
            enqueue(session, "work", {}, run_at=NOW, dedupe_key="once")

    assert _states(db) == {JobState.QUEUED: 1}


def test_a_failing_job_is_retried_with_backoff_then_dead(db: Database) -> None:
    _queue(db, 1)
    retry = RetryPolicy(base=timedelta(seconds=10), max_attempts=2)

    def fails(_db: Database, _payload: dict[str, Any], _now: Any) -> None:
        raise ValueError("the handler's own failure")

    now = NOW
    states = []
    for _ in range(2):
        [job] = claim_jobs(db, "w", now, 1, frozenset({"work"}))
        states.append(run_job(db, {"work": fails}, job, lambda at=now: at, retry))
        now += timedelta(minutes=1)

    assert states == [JobState.QUEUED, JobState.DEAD]
    with db.reading() as session:
        assert "the handler's own failure" in session.scalar(select(Job.last_error))


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(minutes=5))
    rng = random.Random(7)

    delays = [policy.delay(attempt, rng).total_seconds() for attempt in range(1, 10)]

    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(300, 10 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


def test_a_periodic_job_runs_once_per_period_across_runners(db: Database) -> None:
    runs: list[float] = []
    lock = threading.Lock()

    def count() -> int:
        with lock:
            runs.append(time.monotonic())
        return len(runs)

    job = PeriodicJob("counting", timedelta(seconds=0.4), count)
    runners = [JobRunner(db, [job], owner=f"runner-{n}").start() for n in range(3)]
    time.sleep(2.1)
    for runner in runners:
        runner.stop()

    with db.reading() as session:
        periods = session.scalars(select(PeriodicRun.period_start).where(
            PeriodicRun.name == "counting")).all()
    assert len(runs) == len(periods) == len(set(periods))
    assert 4 <= len(runs) <= 7


def test_a_period_whose_runner_died_is_taken_over_after_its_lease(db: Database) -> None:
    job = PeriodicJob("daily", timedelta(days=1), lambda: None, lease=timedelta(minutes=10))
    period = job.period_start(NOW)
    assert start_period(db, job, period, "dies-mid-run", NOW)

    assert not start_period(db, job, period, "other", NOW + timedelta(minutes=5))
    assert start_period(db, job, period, "other", NOW + timedelta(minutes=11))


def test_the_runner_drains_a_queue_with_its_concurrency(db: Database) -> None:
    _queue(db, 20)
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def handle(job) -> None:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        run_job(db, {"work": lambda *_: None}, job, wall_clock, RetryPolicy())

    drainer = Drainer("work", lambda n: claim_jobs(db, "r", wall_clock(), n,
                                                   frozenset({"work"})),
                      handle, concurrency=4, idle_poll_s=0.05)
    runner = JobRunner(db, drainers=[drainer]).start()
    deadline = time.monotonic() + 20
    while _states(db).get(JobState.DONE, 0) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.stop()

    assert _states(db) == {JobState.DONE: 20}
    assert 2 <= most[0] <= 4
