"""A patient's live appointments may not overlap (a clerk's override reason exempts one; an
exclusion constraint on PostgreSQL), and staff reads of a patient's record are logged.

Live appointments of one patient that already overlap are kept: the later of each pair gets
an override reason saying the rule found it, so the constraint can be made and a clerk can
find them (`overlap_reason LIKE 'found overlapping%'`).

Revision ID: 0012_patient_overlap_read_audit
Revises: 0010_idempotency_owner
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_patient_overlap_read_audit"
down_revision: str | None = "0010_idempotency_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATIENT_EXCLUSION = "ex_appointment_active_patient_time"
FOUND_OVERLAPPING = "found overlapping another of the patient's appointments when the rule came in"
LIVE = "state IN ('held', 'booked')"


def upgrade() -> None:
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(sa.Column("overlap_reason", sa.String(length=2000), nullable=True))
    op.execute(sa.text(
        f"UPDATE appointment SET overlap_reason = :reason WHERE {LIVE} AND EXISTS ("
        "SELECT 1 FROM appointment AS earlier WHERE earlier.patient_id = appointment.patient_id"
        f" AND earlier.id < appointment.id AND earlier.{LIVE}"
        " AND earlier.start_at < appointment.end_at AND earlier.end_at > appointment.start_at)"
    ).bindparams(reason=FOUND_OVERLAPPING))
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        op.execute(
            f"ALTER TABLE appointment ADD CONSTRAINT {PATIENT_EXCLUSION} EXCLUDE USING gist "
            "(patient_id WITH =, tstzrange(start_at, end_at) WITH &&) "
            f"WHERE ({LIVE} AND overlap_reason IS NULL)"
        )
    op.create_table(
        "patient_record_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("what", sa.String(length=60), nullable=False),
        sa.Column("item_id", sa.String(length=60), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_patient_record_read"),
    )
    op.create_index("ix_patient_record_read_patient_id_id", "patient_record_read",
                    ["patient_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_patient_record_read_patient_id_id", table_name="patient_record_read")
    op.drop_table("patient_record_read")
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE appointment DROP CONSTRAINT IF EXISTS {PATIENT_EXCLUSION}")
    with op.batch_alter_table("appointment") as batch:
        batch.drop_column("overlap_reason")
