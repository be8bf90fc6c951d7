"""Background jobs (queued jobs, periodic runs), the outbox of messages to patients with
Twilio's delivery reports, and each patient's contact preference.

Revision ID: 0009_jobs_outbox
Revises: 0008_interop_orders_status
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_jobs_outbox"
down_revision: str | None = "0008_interop_orders_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE_JOBS = "state IN ('queued', 'running')"
CLAIMABLE_MESSAGES = "state IN ('pending', 'sending')"


def _stamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                  nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        _stamp("run_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _stamp("lease_until", nullable=True),
        sa.Column("leased_by", sa.String(length=120), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_job"),
        sa.UniqueConstraint("dedupe_key", name="uq_job_dedupe_key"),
    )
    op.create_index("ix_job_claimable_run_at", "job", ["run_at"],
                    sqlite_where=sa.text(CLAIMABLE_JOBS),
                    postgresql_where=sa.text(CLAIMABLE_JOBS))
    op.create_table(
        "periodic_run",
        sa.Column("name", sa.String(length=64), nullable=False),
        _stamp("period_start"),
        sa.Column("runner", sa.String(length=120), nullable=False),
        _stamp("started_at"),
        _stamp("lease_until"),
        _stamp("finished_at", nullable=True),
        sa.Column("outcome", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("name", "period_start", name="pk_periodic_run"),
    )
    _create_outbox()
    op.create_table(
        "delivery_report",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("provider_id", name="pk_delivery_report"),
    )
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("contact_preference", sa.String(length=32), nullable=False,
                                   server_default="both"))
    with op.batch_alter_table("patient") as batch:
        batch.alter_column("contact_preference", server_default=None)


def _create_outbox() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("previous_appointment_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        _stamp("about_start"),
        _stamp("due_at"),
        sa.Column("state", sa.String(length=32), nullable=False),
        _stamp("run_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _stamp("lease_until", nullable=True),
        sa.Column("leased_by", sa.String(length=120), nullable=True),
        _stamp("checked_at", nullable=True),
        sa.Column("provider_id", sa.String(length=250), nullable=True),
        _stamp("sent_at", nullable=True),
        sa.Column("sent_to", sa.String(length=254), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"],
                                name="fk_outbox_message_appointment_id_appointment"),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name="fk_outbox_message_patient_id_patient"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe_key"),
    )
    for column in ("appointment_id", "patient_id", "state"):
        op.create_index(f"ix_outbox_message_{column}", "outbox_message", [column])
    op.create_index("ix_outbox_message_claimable_run_at", "outbox_message", ["run_at"],
                    sqlite_where=sa.text(CLAIMABLE_MESSAGES),
                    postgresql_where=sa.text(CLAIMABLE_MESSAGES))


def downgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("contact_preference")
    op.drop_table("delivery_report")
    op.drop_table("outbox_message")
    op.drop_table("periodic_run")
    op.drop_table("job")
