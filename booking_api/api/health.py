"""Health endpoints, built so that a flood of them cannot take the service down.

* `GET /health/live` (and `/health`, its old name): the process answers. No database, no
  worker thread, nothing about version or environment; the overload guard lets it through.
* `GET /health/ready`: may this process take traffic? It runs the app's readiness checks
  (`add_readiness_check`: the database answers `SELECT 1` within a short timeout, the slot
  index is loaded; other contexts add theirs) at most once per `READY_CACHE_S`, however many
  callers ask: concurrent callers share one run, and no caller holds a connection while it
  waits. 503 with `Retry-After` and the names of the failing checks when not ready.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

import anyio
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import text
from starlette.applications import Starlette

from booking_api.core.app_state import database_of

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)
LIVENESS_PATHS = ("/health", "/health/live")
READY_CACHE_S = 1.0
"""A readiness answer is reused for this long: a flood of checks costs one database round
trip a second, not one each."""
DATABASE_TIMEOUT_S = 2.0
"""Readiness fails when `SELECT 1` has not answered within this (connection wait included)."""
NOT_READY_RETRY_AFTER_S = 5

ReadinessCheck = Callable[[Starlette], Awaitable[str | None]]
"""Async: None when this part is ready, else a short reason (no personal data)."""


class LivePublic(BaseModel):
    status: Literal["ok"]


class ReadyPublic(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]
    """Each check's name: "ok" or why not."""


def add_readiness_check(app: Starlette, name: str, check: ReadinessCheck) -> None:
    """Make `check` part of this app's readiness (e.g. "caught up with the other nodes")."""
    _checks_of(app)[name] = check


def install_readiness(app: Starlette) -> None:
    """The service's own checks: the database answers, the slot index is loaded."""
    add_readiness_check(app, "database", database_answers)
    add_readiness_check(app, "slot_index", slot_index_loaded)


@router.get("/health/live", response_model=LivePublic)
async def live() -> LivePublic:
    """200 whenever the process can answer at all (for an orchestrator's liveness probe)."""
    return LivePublic(status="ok")


@router.get("/health", response_model=LivePublic, include_in_schema=True,
            summary="Liveness (old name of /health/live)")
async def health() -> LivePublic:
    """The same as `/health/live`."""
    return LivePublic(status="ok")


@router.get("/health/ready", response_model=ReadyPublic,
            responses={503: {"model": ReadyPublic, "description": "not ready: see checks"}})
async def ready(request: Request, response: Response) -> ReadyPublic:
    """200 when every readiness check passes, else 503 with Retry-After."""
    checks = await _readiness(request.app)
    if any(outcome != "ok" for outcome in checks.values()):
        response.status_code = 503
        response.headers["Retry-After"] = str(NOT_READY_RETRY_AFTER_S)
        return ReadyPublic(status="not_ready", checks=checks)
    return ReadyPublic(status="ready", checks=checks)


async def database_answers(app: Starlette) -> str | None:
    """`SELECT 1` in a worker thread, given up after DATABASE_TIMEOUT_S. The connection is
    taken inside the thread, so nothing is held while waiting for one."""
    database = database_of(app)

    def select_one() -> None:
        with database.lookup.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        with anyio.fail_after(DATABASE_TIMEOUT_S):
            await anyio.to_thread.run_sync(select_one, abandon_on_cancel=True)
    except TimeoutError:
        return "no answer in time"
    except Exception as error:
        logger.warning("readiness: the database did not answer",
                       extra={"event": "not_ready", "error": type(error).__name__})
        return "unreachable"
    return None


async def slot_index_loaded(app: Starlette) -> str | None:
    return None if app.state.slot_index.loaded else "loading"


async def _readiness(app: Starlette) -> dict[str, str]:
    state = _ready_state(app)
    async with state.lock:
        if state.answer is None or time.monotonic() - state.at >= READY_CACHE_S:
            outcomes = await asyncio.gather(*(check(app) for check in _checks_of(app).values()))
            state.answer = {name: outcome or "ok"
                            for name, outcome in zip(_checks_of(app), outcomes, strict=True)}
            state.at = time.monotonic()
        return state.answer


class _ReadyState:
    """The last readiness answer of an app, and the lock its next run is taken under (one
    per event loop: tests serve one app from several)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.lock = asyncio.Lock()
        self.answer: dict[str, str] | None = None
        self.at = 0.0


def _ready_state(app: Starlette) -> _ReadyState:
    state = getattr(app.state, "readiness_cache", None)
    if state is None or state.loop is not asyncio.get_running_loop():
        state = app.state.readiness_cache = _ReadyState()
    return state


def _checks_of(app: Starlette) -> dict[str, ReadinessCheck]:
    if not hasattr(app.state, "readiness_checks"):
        app.state.readiness_checks = {}
    return app.state.readiness_checks


@cache
def service_version() -> str:
    """The installed package's version (read once), for the OpenAPI document only."""
    try:
        return version("cdip-scheduling")
    except PackageNotFoundError:
        return "unknown"
