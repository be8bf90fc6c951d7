"""The short-notice list: requests whose patients would take an earlier time at short notice.

Revision ID: 0005_short_notice
Revises: 0004_access_idempotency
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_short_notice"
down_revision: str | None = "0004_access_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "short_notice_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.String(length=40), nullable=False),
        sa.Column("periods", sa.String(length=40), nullable=False),
        sa.Column("max_km", sa.Float(), nullable=False),
        sa.Column("notice_hours", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_short_notice_entry_patient_id", "short_notice_entry", ["patient_id"])
    op.create_index("ix_short_notice_entry_active", "short_notice_entry", ["active"])


def downgrade() -> None:
    op.drop_index("ix_short_notice_entry_active", table_name="short_notice_entry")
    op.drop_index("ix_short_notice_entry_patient_id", table_name="short_notice_entry")
    op.drop_table("short_notice_entry")
