"""Idempotency claims name their owner (the claiming process) and carry a short lease that
the owner renews while it works, so a claim whose process died is known dead in seconds.

Revision ID: 0010_idempotency_owner
Revises: 0009_jobs_outbox
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_idempotency_owner"
down_revision: str | None = "0009_jobs_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_key") as table:
        table.add_column(sa.Column("owner", sa.String(length=120), nullable=True))
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_key") as table:
        table.drop_column("lease_until")
        table.drop_column("owner")
