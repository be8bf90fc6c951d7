"""The one way the service opens its database: engines and session factories with the
listeners the contexts need attached explicitly (audit rows written as a transaction commits;
the messages of the changes it noted written to the outbox in the same commit; idempotency
claims marked, and their responses stored, in the same commit). Every web process, worker,
CLI command and test that changes data goes through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from booking_api.audit.reads import use_read_log
from booking_api.audit.services import attach_audit
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.trigger import attach_backfill
from booking_api.core.config import Settings
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
from booking_api.interop.status_out import attach_status_out
from booking_api.outbox.enqueue import attach_outbox
from booking_api.outbox.policy import MessagePolicy

DEFAULT_OFFERS = OfferPolicy()


def open_engine(url: str, *, messages: MessagePolicy | None = None,
                offers: OfferPolicy | None = DEFAULT_OFFERS, **options: Any) -> Engine:
    """An engine of the service (see `booking_api.core.db.make_engine`) whose sessions
    write, as they commit and in this order: referrers' status messages and worklist entries
    (from the transaction's audit events, so before those are written), audit rows, outbox
    messages to patients (by `messages`, default: reminders 7 and 2 days before, no DNA
    scoring), the backfill rows and jobs of freed slots (by `offers`; None: no backfill)
    and idempotency marks."""
    engine = make_engine(url, **options)
    watch_writes(engine)
    messages = messages if messages is not None else MessagePolicy()
    hooks = [attach_status_out, attach_audit, attach_outbox(messages)]
    if offers is not None:
        hooks.append(attach_backfill(offers, messages.doorbell))
    return with_session_hooks(engine, *hooks, attach_claim_marks)


def pool_options(settings: Settings) -> dict[str, Any]:
    """The connection pool a server process sized by `settings` needs: a connection per
    worker thread, a few more for background jobs, and a short wait when none is free."""
    return {"pool_size": settings.pool_size, "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout_seconds}


def open_database(url: str, *, messages: MessagePolicy | None = None,
                  offers: OfferPolicy | None = DEFAULT_OFFERS, **options: Any) -> Database:
    """Everything a process needs to use the database (dispose of it when done)."""
    engine = open_engine(url, messages=messages, offers=offers, **options)
    bookkeeping = make_bookkeeping_engine(engine)
    read_sessions = make_session_factory(read_only(engine))
    use_read_log(read_sessions, bookkeeping)  # staff reads logged from read-only sessions
    return Database(
        engine=engine,
        bookkeeping=bookkeeping,
        lookup=one_statement(read_only(engine)),  # sign-in checks, one statement each
        sessions=make_session_factory(engine),
        read_sessions=read_sessions,
    )
