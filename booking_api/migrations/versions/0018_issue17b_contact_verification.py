"""Mobile numbers and email addresses a patient gives, waiting for the one-time code that
confirms them (issue 17, item 14).

Revision ID: 0018_issue17b_contact
Revises: 0017_issue17b_questionnaire
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_issue17b_contact"
down_revision: str | None = "0017_issue17b_questionnaire"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_contact_verification_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_verification")),
    )
    op.create_index(op.f("ix_contact_verification_patient_id"), "contact_verification",
                    ["patient_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_contact_verification_patient_id"),
                  table_name="contact_verification")
    op.drop_table("contact_verification")
