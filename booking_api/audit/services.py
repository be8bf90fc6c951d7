"""Writing audit events: the one function every context calls when it changes something.

The rows of a transaction are kept on its session and written together, in one Core
statement, as it commits (no ORM object or unit-of-work pass for an append-only row, and
one round trip however many changes a booking records), so they commit with the changes
they describe or vanish with them on rollback; the correlation id is taken from the HTTP
request being served, if any. They are not readable before the commit. The listeners that do
this are attached to the service's session factories by `attach_audit` (wired in
`booking_api.database`), not to every session in the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, orm
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from booking_api.audit.models import AuditEvent
from booking_api.core.channel import Channel
from booking_api.core.columns import utc_now
from booking_api.core.logging import request_id_var


class AuditNotWired(RuntimeError):
    """A change recorded on a session that would never write its audit rows (a bug)."""


@dataclass(frozen=True)
class Actor:
    """Who did something, through which channel: `clerk:jsmith`, `patient:42`, `system:sweeper`."""

    name: str
    channel: Channel
    role: str | None = None


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Record one audit event for a change made in `session` (written as it commits)."""
    if not session.info.get(_AUDITED):
        raise AuditNotWired("this session's factory has no audit hooks: make sessions from "
                            "an engine of booking_api.database, or the event would be lost")
    session.connection()  # in the transaction, so its end (commit, rollback, close) is seen
    session.info.setdefault(_PENDING, []).append({
        "at": utc_now(), "actor": actor.name, "channel": actor.channel, "action": action,
        "entity": entity, "entity_id": str(entity_id), "before": before, "after": after,
        "reason": reason, "correlation_id": request_id_var.get(None)})


def pending_audit_events(session: Session) -> list[dict[str, Any]]:
    """The audit events recorded in this transaction so far, not yet written (a read-only
    view for hooks that run before the audit rows are written at commit)."""
    return list(session.info.get(_PENDING, ()))


def _write_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.connection().execute(_INSERT, rows)


def _forget_pending(session: Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint in it
        session.info.pop(_PENDING, None)


def attach_audit(factory: sessionmaker[Session]) -> None:
    """Have sessions of `factory` write their pending audit rows as they commit. Attach it
    before any other commit hook that may commit work of its own (idempotency's)."""
    event.listen(factory, "before_commit", _write_pending)
    event.listen(factory, "after_transaction_end", _forget_pending)
    factory.kw["info"] = {**factory.kw.get("info", {}), _AUDITED: True}


_PENDING = "cdip_pending_audit_rows"
_AUDITED = "cdip_audited"
_INSERT = insert(AuditEvent)
