"""The one way the service opens its database: engines and session factories with the
listeners the contexts need attached explicitly (audit rows written as a transaction commits;
idempotency claims marked, and their responses stored, in the same commit). Every web
process, worker, CLI command and test that changes data goes through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from booking_api.audit.services import attach_audit
from booking_api.core.db import (
    Database,
    make_bookkeeping_engine,
    make_engine,
    make_session_factory,
    one_statement,
    read_only,
    with_session_hooks,
)
from booking_api.idempotency.commit_hooks import attach_claim_marks, watch_writes


def open_engine(url: str, **options: Any) -> Engine:
    """An engine of the service (see `booking_api.core.db.make_engine`) whose sessions
    write audit rows and mark idempotency claims as they commit."""
    engine = make_engine(url, **options)
    watch_writes(engine)
    return with_session_hooks(engine, attach_audit, attach_claim_marks)


def open_database(url: str, **options: Any) -> Database:
    """Everything a process needs to use the database (dispose of it when done)."""
    engine = open_engine(url, **options)
    return Database(
        engine=engine,
        bookkeeping=make_bookkeeping_engine(engine),
        lookup=one_statement(read_only(engine)),  # sign-in checks, one statement each
        sessions=make_session_factory(engine),
        read_sessions=make_session_factory(read_only(engine)),
    )
