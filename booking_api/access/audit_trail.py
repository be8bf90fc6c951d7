"""Reading the audit trail (admins only): newest first, filtered by entity, actor or action,
paged by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from booking_api.audit.models import AuditEvent
from booking_api.core.channel import Channel

MAX_PAGE = 500


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    channel: Channel
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    correlation_id: str | None


def read_audit_events(session: Session, *, entity: str | None = None,
                      entity_id: str | None = None, actor: str | None = None,
                      action: str | None = None, before_id: int | None = None,
                      limit: int = 100) -> list[AuditEventPublic]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(limit, MAX_PAGE))
    for column, value in ((AuditEvent.entity, entity), (AuditEvent.entity_id, entity_id),
                          (AuditEvent.actor, actor), (AuditEvent.action, action)):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return [AuditEventPublic.model_validate(event, from_attributes=True)
            for event in session.scalars(query)]
