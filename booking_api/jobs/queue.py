"""Queued jobs: enqueue in the caller's transaction (so a job exists exactly when the change
that wants it committed), claim with a lease, run the handler registered for its kind, and
record the outcome: done, queued again after a backoff, or dead after too many attempts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from booking_api.core.clock import Clock
from booking_api.core.columns import utc_now
from booking_api.core.db import Database
from booking_api.jobs.backoff import RetryPolicy
from booking_api.jobs.leases import claim_due
from booking_api.jobs.models import Job, JobState

JOB_LEASE = timedelta(minutes=5)
logger = logging.getLogger(__name__)

JobHandler = Callable[[Database, dict[str, Any], datetime], None]
"""Runs one job of a kind: (database, payload, now). Raising means: try again later."""


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, run_at: datetime,
            dedupe_key: str | None = None) -> None:
    """Queue a job in the session's transaction; with `dedupe_key`, a second job with the
    same key is never queued (silently)."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    statement = insert(Job).values(kind=kind, payload=payload, state=JobState.QUEUED,
                                   run_at=run_at, attempts=0, dedupe_key=dedupe_key,
                                   created_at=utc_now(), updated_at=utc_now())
    session.connection().execute(statement.on_conflict_do_nothing())


def claim_jobs(db: Database, owner: str, now: datetime, limit: int,
               kinds: frozenset[str], lease: timedelta = JOB_LEASE) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs of `kinds` to `owner` (one transaction)."""
    with db.transaction() as session:
        rows = claim_due(session, Job, ready=JobState.QUEUED, leased=JobState.RUNNING,
                         owner=owner, now=now, lease=lease, limit=limit,
                         where=[Job.__table__.c.kind.in_(sorted(kinds))])
    return [ClaimedJob(row.id, row.kind, dict(row.payload or {}), row.attempts)
            for row in rows]


def run_job(db: Database, handlers: Mapping[str, JobHandler], job: ClaimedJob, clock: Clock,
            retry: RetryPolicy) -> JobState:
    """Run one claimed job and record what became of it."""
    try:
        handlers[job.kind](db, job.payload, clock())
    except Exception as error:  # any failure: try again later, or give up
        logger.exception("job failed", extra={"event": "job_failed", "job_id": job.id,
                                               "kind": job.kind, "attempts": job.attempts})
        dead = retry.gives_up_after(job.attempts)
        state = JobState.DEAD if dead else JobState.QUEUED
        _record(db, job.id, state, clock() + retry.delay(job.attempts), f"{error!r}"[:2000])
        return state
    _record(db, job.id, JobState.DONE, None, None)
    return JobState.DONE


def _record(db: Database, job_id: int, state: JobState, run_at: datetime | None,
            error: str | None) -> None:
    values: dict[str, Any] = {"job_id": job_id, "new_state": state, "error": error,
                              "lease": None, "stamp": utc_now()}
    statement = _FINISH if run_at is None else _RETRY
    if run_at is not None:
        values["next_run"] = run_at
    with db.transaction() as session:
        session.connection().execute(statement, values)


_FINISH = (update(Job).where(Job.id == bindparam("job_id"))
           .values(state=bindparam("new_state"), lease_until=bindparam("lease"),
                   last_error=bindparam("error"), updated_at=bindparam("stamp")))
_RETRY = _FINISH.values(run_at=bindparam("next_run"))
