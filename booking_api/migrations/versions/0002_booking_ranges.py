"""Booking: appointments carry the room and time range they occupy (no two active ones overlap
in a room: an exclusion constraint on PostgreSQL), hold extension and change stamps; slots get
a change stamp for the search index.

Revision ID: 0002_booking
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_booking"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCLUSION = "ex_appointment_active_room_time"


def upgrade() -> None:
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(sa.Column("room_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("start_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("end_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("hold_extended", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                                   server_default=sa.func.now()))
        batch.create_foreign_key(op.f("fk_appointment_room_id_room"), "room", ["room_id"],
                                 ["room_id"])
        batch.create_index("ix_appointment_room_id_start_at", ["room_id", "start_at"])
        batch.create_index(op.f("ix_appointment_updated_at"), ["updated_at"])
    with op.batch_alter_table("appointment") as batch:
        batch.alter_column("hold_extended", server_default=None)
        batch.alter_column("updated_at", server_default=None)
    with op.batch_alter_table("slot") as batch:
        batch.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                                   server_default=sa.func.now()))
        batch.create_index(op.f("ix_slot_changed_at"), ["changed_at"])
    with op.batch_alter_table("slot") as batch:
        batch.alter_column("changed_at", server_default=None)
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        op.execute(
            f"ALTER TABLE appointment ADD CONSTRAINT {EXCLUSION} EXCLUDE USING gist "
            "(room_id WITH =, tstzrange(start_at, end_at) WITH &&) "
            "WHERE (state IN ('held', 'booked'))"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE appointment DROP CONSTRAINT IF EXISTS {EXCLUSION}")
    with op.batch_alter_table("slot") as batch:
        batch.drop_index(op.f("ix_slot_changed_at"))
        batch.drop_column("changed_at")
    with op.batch_alter_table("appointment") as batch:
        batch.drop_index(op.f("ix_appointment_updated_at"))
        batch.drop_index("ix_appointment_room_id_start_at")
        batch.drop_constraint(op.f("fk_appointment_room_id_room"), type_="foreignkey")
        batch.drop_column("updated_at")
        batch.drop_column("hold_extended")
        batch.drop_column("end_at")
        batch.drop_column("start_at")
        batch.drop_column("room_id")
