"""Rules layer beside requests: the protocol assigned at vetting, recorded clinical facts and
rule overrides (both append-only).

Revision ID: 0003_request_rules
Revises: 0002_booking
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_request_rules"
down_revision: str | None = "0002_booking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "request_protocol",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("exam_code", sa.String(length=40), nullable=False),
        sa.Column("protocol", sa.String(length=200), nullable=False),
        sa.Column("contrast", sa.Boolean(), nullable=False),
        sa.Column("sedation", sa.Boolean(), nullable=False),
        sa.Column("special_requirements", sa.String(length=2000), nullable=True),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["exam_code"], ["exam_type.code"],
                                name=op.f("fk_request_protocol_exam_code_exam_type")),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_request_protocol_request_id_request")),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_protocol")),
    )
    op.create_table(
        "request_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", JSON_DOCUMENT, nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_request_fact_request_id_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_fact")),
    )
    op.create_index(op.f("ix_request_fact_request_id"), "request_fact", ["request_id"],
                    unique=False)
    op.create_table(
        "rule_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("ruleset", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_rule_override_request_id_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_override")),
    )
    op.create_index(op.f("ix_rule_override_request_id"), "rule_override", ["request_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rule_override_request_id"), table_name="rule_override")
    op.drop_table("rule_override")
    op.drop_index(op.f("ix_request_fact_request_id"), table_name="request_fact")
    op.drop_table("request_fact")
    op.drop_table("request_protocol")
