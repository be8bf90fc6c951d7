"""Claiming due rows of a work table with a lease: the one way every queue here (jobs, the
outbox's messages) hands a row to one worker at a time.

A claimable row is ready and due (`run_at` passed), or leased by a worker whose lease has
lapsed (the worker died or lost its database). Claiming is one UPDATE over a sub-select of
due rows: on PostgreSQL the sub-select locks what it picks with `FOR UPDATE SKIP LOCKED`, so
concurrent workers on any number of machines take disjoint rows without waiting for each
other; on SQLite the transaction already holds the database's one write lock (BEGIN
IMMEDIATE), so claims take turns. The claim counts an attempt, so a row that kills every
worker that takes it still runs out of attempts."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select, update
from sqlalchemy.orm import Session


def runner_name(role: str = "runner") -> str:
    """A name for this process's claims: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{role}:{secrets.token_hex(3)}"


def claim_due(session: Session, table: Any, *, ready: str, leased: str, owner: str,
              now: datetime, lease: timedelta, limit: int,
              where: Sequence[ColumnElement[bool]] = (),
              also: Mapping[str, Any] | None = None) -> list[Row[Any]]:
    """Lease up to `limit` due rows of `table` (a table with columns id, state, run_at,
    attempts, lease_until, leased_by, updated_at) to `owner` until `now + lease`, oldest due
    first, setting `also` too; returns them as they are after the claim. Runs in the
    caller's transaction."""
    columns = table.__table__.c
    due = or_(and_(columns.state == ready, columns.run_at <= now),
              and_(columns.state == leased, columns.lease_until <= now))
    pick = (select(columns.id).where(due, *where)
            .order_by(columns.run_at, columns.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    claim = (update(table.__table__).where(columns.id.in_(pick.scalar_subquery()))
             .values(state=leased, lease_until=now + lease, leased_by=owner,
                     attempts=columns.attempts + 1, updated_at=now, **(also or {}))
             .returning(*columns))
    rows = list(session.connection().execute(claim))
    rows.sort(key=lambda row: (row.run_at, row.id))
    return rows
