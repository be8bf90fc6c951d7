"""Writing audit events: the one function every context calls when it changes something.

The rows of a transaction are kept on its session and written together, in one Core
statement, as it commits (no ORM object or unit-of-work pass for an append-only row, and
one round trip however many changes a booking records), so they commit with the changes
they describe or vanish with them on rollback; the correlation id is taken from the HTTP
request being served, if any. They are not readable before the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, orm
from sqlmodel import Session

from booking_api.audit.models import AuditEvent
from booking_api.core.channel import Channel
from booking_api.core.columns import utc_now
from booking_api.core.logging import request_id_var


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
    session.connection()  # in the transaction, so its end (commit, rollback, close) is seen
    session.info.setdefault(_PENDING, []).append({
        "at": utc_now(), "actor": actor.name, "channel": actor.channel, "action": action,
        "entity": entity, "entity_id": str(entity_id), "before": before, "after": after,
        "reason": reason, "correlation_id": request_id_var.get(None)})


def _write_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.connection().execute(_INSERT, rows)


def _forget_pending(session: Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint in it
        session.info.pop(_PENDING, None)


_PENDING = "cdip_pending_audit_rows"
_INSERT = insert(AuditEvent)
event.listen(orm.Session, "before_commit", _write_pending, insert=True)  # before other hooks
event.listen(orm.Session, "after_transaction_end", _forget_pending)
