"""Orders in look up less per message (issue 21): the interop settings stamp (one row the
database rewrites, by triggers, whenever the order-code map, the exam catalogue or the
subscribers change; `booking_api.interop.settings_cache`) and an index on the patient's date
of birth (every order's demographic look-alike search starts there; it scanned the table).

Revision ID: 0019_interop_settings_stamp
Revises: 0017_simulation_runs
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking_api.interop.settings_cache import drop_stamp_triggers, stamp_triggers

revision: str = "0019_interop_settings_stamp"
down_revision: str | None = "0017_simulation_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interop_settings_stamp",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
    )
    first = ("pg_current_xact_id()::text::bigint" if op.get_bind().dialect.name == "postgresql"
             else "abs(random())")  # unique, as every later stamp is (`settings_cache`)
    op.execute(f"INSERT INTO interop_settings_stamp (id, stamp) VALUES (1, {first})")
    for statement in stamp_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.create_index("ix_patient_date_of_birth", "patient", ["date_of_birth"])


def downgrade() -> None:
    op.drop_index("ix_patient_date_of_birth", table_name="patient")
    for statement in drop_stamp_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("interop_settings_stamp")
