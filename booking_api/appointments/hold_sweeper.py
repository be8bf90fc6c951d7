"""Holds released in the database as their time runs out, not only when someone next wants
the slot. The job runner (`booking_api.background`) sweeps once each `hold_sweep_seconds`
across all processes: a lapsed hold becomes a cancelled appointment ("hold expired", audited
as the system's hold sweeper) and its slot is free again, in the slot API and its FHIR
status as well as in search (which offers it again from the moment the hold lapses).

Sweeps are safe to overlap (an administrator's sweep, the booking path): on PostgreSQL a
sweep skips holds another transaction has locked, on SQLite sweeps take turns at the write
lock. A sweep works in batches, one transaction each, so a backlog (after downtime) never
becomes one long lock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from booking_api.appointments import services

BATCH = 200
"""Holds expired per transaction."""


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
