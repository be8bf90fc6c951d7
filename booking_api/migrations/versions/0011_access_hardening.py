"""Access hardening: server-side sign-ins (`access_session`, checked on every request, so a
sign-out ends a token at once), staff's second factor (TOTP key, a pending key during
enrolment, the last time step used), and outbox messages about a patient's access rather
than an appointment (`outbox_message.appointment_id` may be empty).

Revision ID: 0011_access_hardening
Revises: 0015_backfill_offers
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_access_hardening"
down_revision: str | None = "0015_backfill_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "access_session",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("second_factor", sa.Boolean(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"],
                                name=op.f("fk_access_session_staff_id_staff_user")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_access_session_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_session")),
    )
    for column in ("staff_id", "patient_id", "expires_at"):
        op.create_index(op.f(f"ix_access_session_{column}"), "access_session", [column])
    with op.batch_alter_table("outbox_message") as batch:  # notices about access, too
        batch.alter_column("appointment_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox_message WHERE appointment_id IS NULL")
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("appointment_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("access_session")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_pending_secret")
        batch.drop_column("totp_secret")
