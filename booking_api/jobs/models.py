"""The tables of background work: queued jobs, and the record of which process ran each
period of a periodic job. A job row is leased while it runs (`lease_until`), so a worker
killed mid-job leaves it to be claimed again once the lease lapses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from booking_api.core.columns import JSONDocument, code_enum, utc_now


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    """Leased by a runner until `lease_until`; claimable again after it."""
    DONE = "done"
    DEAD = "dead"
    """Failed `max_attempts` times; kept with its last error for someone to look at."""


CLAIMABLE_JOBS_SQL = f"state IN ('{JobState.QUEUED.value}', '{JobState.RUNNING.value}')"


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_claimable_run_at", "run_at", sqlite_where=text(CLAIMABLE_JOBS_SQL),
              postgresql_where=text(CLAIMABLE_JOBS_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, description="which handler runs it")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONDocument,
                                                                           nullable=False))
    state: JobState = Field(default=JobState.QUEUED, sa_type=code_enum(JobState))
    run_at: datetime = Field(description="not before this instant")
    attempts: int = Field(default=0, description="claims so far (a crash counts as one)")
    lease_until: datetime | None = None
    leased_by: str | None = Field(default=None, max_length=120)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True,
                                   description="at most one job per key, ever")
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class PeriodicRun(SQLModel, table=True):
    """One period of one periodic job: the process whose INSERT won runs it. A run whose
    lease lapsed unfinished (its process died) may be taken over by another."""

    __tablename__ = "periodic_run"

    name: str = Field(primary_key=True, max_length=64)
    period_start: datetime = Field(primary_key=True)
    runner: str = Field(max_length=120)
    started_at: datetime
    lease_until: datetime
    finished_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=2000)
