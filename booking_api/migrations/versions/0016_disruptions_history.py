"""Planning inputs kept by the service: a trust's demand history (weekly counts),
disruptions (room down, site closed, staff short, list cancelled or added), and the patients a
diary repair could not move (for the clerks).

Revision ID: 0016_disruptions_history
Revises: 0012_patient_overlap_read_audit
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_disruptions_history"
down_revision: str | None = "0012_patient_overlap_read_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "history_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("exam_family", sa.String(length=32), nullable=False),
        sa.Column("area_id", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("age_band", sa.String(length=32), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["history_import.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_history_demand_import_id", "history_demand", ["import_id"])
    op.create_index("ix_history_demand_week_start", "history_demand", ["week_start"])
    op.create_table(
        "disruption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=40), nullable=True),
        sa.Column("site_id", sa.String(length=40), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=True),
        sa.Column("template_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoke_reason", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disruption_state", "disruption", ["state"])
    op.create_table(
        "repair_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("disruption_ids", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_repair_follow_up_appointment_id", "repair_follow_up",
                    ["appointment_id"])
    op.create_index("ix_repair_follow_up_request_id", "repair_follow_up", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_repair_follow_up_request_id", table_name="repair_follow_up")
    op.drop_index("ix_repair_follow_up_appointment_id", table_name="repair_follow_up")
    op.drop_table("repair_follow_up")
    op.drop_index("ix_disruption_state", table_name="disruption")
    op.drop_table("disruption")
    op.drop_index("ix_history_demand_week_start", table_name="history_demand")
    op.drop_index("ix_history_demand_import_id", table_name="history_demand")
    op.drop_table("history_demand")
    op.drop_table("history_import")
