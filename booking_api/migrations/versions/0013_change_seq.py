"""Change stamps written by the database (`booking_api.core.change_stamps`): a `change_seq`
column on slot and appointment, indexed, set by a trigger on every insert and update, so the
slot index of every node reads what committed since it last looked, in the database's order.

Revision ID: 0013_change_seq
Revises: 0011_access_hardening
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking_api.core.change_stamps import STAMPED_TABLES, drop_stamp_triggers, stamp_triggers

revision: str = "0013_change_seq"
down_revision: str | None = "0011_access_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in STAMPED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=False,
                                       server_default="0"))
        op.create_index(f"ix_{table}_change_seq", table, ["change_seq"])
    for statement in stamp_triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_stamp_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    for table in STAMPED_TABLES:
        op.drop_index(f"ix_{table}_change_seq", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("change_seq")
