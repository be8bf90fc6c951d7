"""Periodic jobs that run once per period across every process sharing the database.

Periods are fixed windows of wall-clock time (`every`, shifted by `offset`: a daily job at
02:00 UTC is every=1 day, offset=2 hours). A process that wants to run a period inserts its
row in `periodic_run`; the primary key (name, period_start) lets one INSERT win, and only
that process runs the period. A winner that dies mid-run leaves the row unfinished; once its
lease lapses another process takes the period over. A period no process was up for is run
when one starts (catch-up), never twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from booking_api.core.db import Database
from booking_api.jobs.models import PeriodicRun

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)
"""Periods are counted from this Monday (UTC), so weekly periods start on Mondays."""


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[], object]
    """Does the work; what it returns is logged as the period's outcome."""
    offset: timedelta = timedelta(0)
    lease: timedelta = field(default=timedelta(minutes=10))
    """How long a run may take before another process may assume it died."""

    def __post_init__(self) -> None:
        if self.every <= timedelta(0):
            raise ValueError(f"periodic job {self.name}: `every` must be positive")

    def period_start(self, now: datetime) -> datetime:
        """The start of the period `now` falls in."""
        elapsed = now - EPOCH - self.offset
        return EPOCH + self.offset + self.every * (elapsed // self.every)


def start_period(db: Database, job: PeriodicJob, period_start: datetime, owner: str,
                 now: datetime) -> bool:
    """Whether this process runs `period_start` of `job`: its row inserted, or an unfinished
    row whose lease has lapsed taken over. One short transaction."""
    with db.transaction() as session:
        connection = session.connection()
        dialect = connection.dialect.name
        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        inserted = connection.execute(
            insert(PeriodicRun).values(name=job.name, period_start=period_start,
                                       runner=owner, started_at=now,
                                       lease_until=now + job.lease)
            .on_conflict_do_nothing().returning(PeriodicRun.name)).first()
        if inserted is not None:
            return True
        taken = connection.execute(_TAKE_OVER, {
            "job_name": job.name, "start": period_start, "owner": owner, "at": now,
            "until": now + job.lease}).first()
        return taken is not None


def finish_period(db: Database, job: PeriodicJob, period_start: datetime, owner: str,
                  now: datetime, outcome: str) -> None:
    with db.transaction() as session:
        session.connection().execute(_FINISH, {
            "job_name": job.name, "start": period_start, "owner": owner, "at": now,
            "said": outcome[:2000]})


_THIS_RUN = and_(PeriodicRun.name == bindparam("job_name"),
                 PeriodicRun.period_start == bindparam("start"))
_TAKE_OVER = (update(PeriodicRun)
              .where(_THIS_RUN, PeriodicRun.finished_at.is_(None),
                     PeriodicRun.lease_until <= bindparam("at"))
              .values(runner=bindparam("owner"), started_at=bindparam("at"),
                      lease_until=bindparam("until"))
              .returning(PeriodicRun.name))
_FINISH = (update(PeriodicRun).where(_THIS_RUN, PeriodicRun.runner == bindparam("owner"))
           .values(finished_at=bindparam("at"), outcome=bindparam("said")))
