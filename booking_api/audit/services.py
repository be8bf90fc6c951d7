"""Writing audit events: the one function every context calls when it changes something.

The row is inserted at once on the caller's session's connection (a Core insert: no ORM
object or unit-of-work pass for an append-only row, which is most of what a write-light
operation like a booking costs), so it commits or rolls back with the change it describes;
the correlation id is taken from the HTTP request being served, if any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
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
    """Insert one audit event for a change made in `session` (not committed here)."""
    session.connection().execute(_INSERT, {
        "at": utc_now(), "actor": actor.name, "channel": actor.channel, "action": action,
        "entity": entity, "entity_id": str(entity_id), "before": before, "after": after,
        "reason": reason, "correlation_id": request_id_var.get(None)})


_INSERT = insert(AuditEvent)
