"""The idempotency_key table: the first response to each (actor, Idempotency-Key), kept for
24 hours so a retried POST gets the same answer instead of doing the work twice.

The row is inserted (`in_progress`) before the work starts; the unique (actor, key)
constraint is what stops two concurrent duplicates from both running. The row names its
owner (the claiming process) and a short lease the owner renews while it works
(`booking_api.idempotency.leases`), so a claim whose owner died is known dead in seconds.
`committed_at` is set inside the work's own transaction, so the row knows whether the change
happened even if the process dies before the response is stored (`completed`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from booking_api.core.columns import JSONDocument, code_enum, utc_now

KEY_MAX_LENGTH = 255


class KeyState(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=80, description="staff:<id> or patient:<id>")
    key: str = Field(max_length=KEY_MAX_LENGTH)
    fingerprint: str = Field(max_length=64, description="keyed hash of method, path, body")
    state: KeyState = Field(sa_type=code_enum(KeyState))
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime = Field(index=True)
    owner: str | None = Field(default=None, max_length=120,
                              description="the process that claimed it (host:pid:boot id)")
    lease_until: datetime | None = Field(
        default=None, description="renewed by the owner while it works; an unfinished claim "
                                  "past it is dead (its owner has gone)")
    committed_at: datetime | None = None
    response_status: int | None = None
    response_headers: list[list[str]] | None = Field(default=None, sa_type=JSONDocument)
    response_body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
