"""The table of what-if runs a manager started: the scenario as written, the run's plan, its
state and progress (updated as replications finish) and, once done, its figures."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from booking_api.core.columns import JSONDocument, code_enum, utc_now

MAX_SCENARIO_CHARS = 20_000


class SimulationRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SimulationRunBase(SQLModel):
    weeks: int = Field(default=52, ge=2, le=260)
    replications: int = Field(default=10, ge=1, le=100)
    warmup_weeks: int = Field(default=8, ge=0, le=52)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class SimulationRunCreate(SimulationRunBase):
    scenario_yaml: str = Field(min_length=1, max_length=MAX_SCENARIO_CHARS)


class SimulationRun(SimulationRunBase, table=True):
    __tablename__ = "simulation_run"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    scenario_yaml: str = Field(sa_column=Column(Text, nullable=False))
    state: SimulationRunState = Field(default=SimulationRunState.QUEUED,
                                      sa_type=code_enum(SimulationRunState))
    progress_done: int = 0
    progress_total: int = 0
    error: str | None = Field(default=None, max_length=4000)
    figures: list[dict[str, Any]] | None = Field(default=None,
                                                 sa_column=Column(JSONDocument, nullable=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class SimulationRunPublic(SimulationRunBase):
    id: int
    name: str
    state: SimulationRunState
    progress_done: int
    progress_total: int
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
