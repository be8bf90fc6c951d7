"""Holds by expiry (a partial index on held holds), for the hold sweeper.

Revision ID: 0006_live_holds_index
Revises: 0005_short_notice
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_live_holds_index"
down_revision: str | None = "0005_short_notice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = sa.text("state = 'held'")


def upgrade() -> None:
    op.create_index("ix_appointment_held_until", "appointment", ["held_until"],
                    sqlite_where=HELD, postgresql_where=HELD)


def downgrade() -> None:
    op.drop_index("ix_appointment_held_until", table_name="appointment")
