"""What-if runs (issue 19): the `simulation_run` table.

Revision ID: 0017_simulation_runs
Revises: 0018_issue17b_contact
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking_api.core.columns import JSONDocument

revision: str = "0017_simulation_runs"
down_revision: str | None = "0018_issue17b_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "simulation_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("warmup_weeks", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scenario_yaml", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=4000), nullable=True),
        sa.Column("figures", JSONDocument, nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("simulation_run")
