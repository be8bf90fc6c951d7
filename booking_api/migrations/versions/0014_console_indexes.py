"""The staff console: the site a request was sent to (its trust is responsible for it), and
the worklist's partial indexes over open requests (by priority then date received, and by
priority then due date), so a page of the network's worklist reads a few index entries.

Revision ID: 0014_console_indexes
Revises: 0016_disruptions_history
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_console_indexes"
down_revision: str | None = "0016_disruptions_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_STATES = "state IN ('received', 'justified', 'waiting', 'appointable')"


def upgrade() -> None:
    with op.batch_alter_table("request") as batch:
        batch.add_column(sa.Column("site_id", sa.String(length=40), nullable=True))
        batch.create_foreign_key("fk_request_site_id_site", "site", ["site_id"], ["site_id"])
        batch.create_index("ix_request_site_id", ["site_id"])
    for name, columns in (("ix_request_worklist", ["priority", "received_at", "id"]),
                          ("ix_request_worklist_due", ["priority", "due_date", "id"])):
        op.create_index(name, "request", columns, sqlite_where=sa.text(OPEN_STATES),
                        postgresql_where=sa.text(OPEN_STATES))


def downgrade() -> None:
    op.drop_index("ix_request_worklist_due", table_name="request")
    op.drop_index("ix_request_worklist", table_name="request")
    with op.batch_alter_table("request") as batch:
        batch.drop_index("ix_request_site_id")
        batch.drop_constraint("fk_request_site_id_site", type_="foreignkey")
        batch.drop_column("site_id")
