"""Holds released in the database as their time runs out, not only when someone next wants
the slot. While the service runs, every server process sweeps each `hold_sweep_seconds`: a
lapsed hold becomes a cancelled appointment ("hold expired", audited as the system's
hold sweeper) and its slot is free again, in the slot API and its FHIR status as well as in
search (which offers it again from the moment the hold lapses).

Processes sweep independently and safely: on PostgreSQL a sweep skips holds another
transaction has locked, on SQLite sweeps take turns at the write lock. A sweep works in
batches, one transaction each, so a backlog (after downtime) never becomes one long lock.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from booking_api.appointments import services
from booking_api.core.clock import Clock

BATCH = 200
"""Holds expired per transaction."""
logger = logging.getLogger(__name__)


def sweep_lapsed_holds(session_factory: sessionmaker[Session], now: datetime,
                       batch: int = BATCH) -> int:
    """Expire every hold lapsed by `now`, `batch` per transaction; returns how many."""
    total = 0
    while True:
        with session_factory() as session:
            expired = services.sweep_expired_holds(session, now, limit=batch)
            session.commit()
        total += expired
        if expired < batch:
            return total


async def sweep_holds_periodically(sessions: sessionmaker[Session], clock: Clock,
                                   interval_s: float) -> None:
    """Sweep every `interval_s` until cancelled; a failed sweep is logged and tried again
    next time (the booking path expires holds on its own meanwhile). `clock` is called at
    each sweep (a test may move it meanwhile)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            expired = await run_in_threadpool(sweep_lapsed_holds, sessions, clock())
        except Exception:
            logger.exception("hold sweep failed; trying again at the next interval",
                             extra={"event": "hold_sweep_failed"})
            continue
        if expired:
            logger.info("lapsed holds released", extra={"event": "holds_expired",
                                                         "count": expired})
