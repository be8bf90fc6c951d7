"""A patient's answers to a health questionnaire (MRI safety, contrast), kept as given: the
evidence behind the request facts recorded from them (issue 17, item 12).

Revision ID: 0017_issue17b_questionnaire
Revises: 0013_change_seq
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_issue17b_questionnaire"
down_revision: str | None = "0013_change_seq"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("answers", JSON_DOCUMENT, nullable=False),
        sa.Column("answered_by", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_questionnaire_response_request_id_request")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_questionnaire_response_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
        sa.UniqueConstraint("request_id", "questionnaire",
                            name="uq_questionnaire_response_request"),
    )
    op.create_index(op.f("ix_questionnaire_response_request_id"), "questionnaire_response",
                    ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_questionnaire_response_request_id"),
                  table_name="questionnaire_response")
    op.drop_table("questionnaire_response")
