"""Sites that see children only: `site.age_limit_years` (patients must be younger).

Revision ID: 0007_site_age_limit
Revises: 0006_live_holds_index
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_site_age_limit"
down_revision: str | None = "0006_live_holds_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("age_limit_years", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.drop_column("age_limit_years")
