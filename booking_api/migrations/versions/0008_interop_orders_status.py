"""Interop (issue 21): HL7 messages received, placer orders, the order-code map, the clerk's
queue of held orders, modality worklist entries, subscribers and outbound status messages;
the patient's full postcode.

Revision ID: 0008_interop_orders_status
Revises: 0007_site_age_limit
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_interop_orders_status"
down_revision: str | None = "0007_site_age_limit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CLAIMABLE = "state IN ('pending', 'sending')"
OPEN = "state = 'open'"


def _stamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("postcode", sa.String(length=8), nullable=True))
    op.create_table(
        "hl7_inbound_message", _id(),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("control_id", sa.String(length=200), nullable=False),
        sa.Column("message_type", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("ack_code", sa.String(length=32), nullable=False),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        _stamp("received_at"),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_hl7_inbound_message_request_id_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_inbound_message")),
        sa.UniqueConstraint("sender", "control_id",
                            name=op.f("uq_hl7_inbound_message_sender_control_id")),
    )
    op.create_index(op.f("ix_hl7_inbound_message_request_id"), "hl7_inbound_message",
                    ["request_id"])
    op.create_table(
        "placer_order", _id(),
        sa.Column("placer_system", sa.String(length=200), nullable=False),
        sa.Column("placer_order_number", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        _stamp("created_at"), _stamp("updated_at"),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_placer_order_request_id_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placer_order")),
        sa.UniqueConstraint("placer_system", "placer_order_number",
                            name=op.f("uq_placer_order_placer_system_placer_order_number")),
        sa.UniqueConstraint("request_id", name=op.f("uq_placer_order_request_id")),
    )
    op.create_table(
        "order_code_map",
        sa.Column("code_system", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("exam_code", sa.String(length=40), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["exam_code"], ["exam_type.code"],
                                name=op.f("fk_order_code_map_exam_code_exam_type")),
        sa.PrimaryKeyConstraint("code_system", "code", name=op.f("pk_order_code_map")),
    )
    op.create_table(
        "held_order", _id(),
        sa.Column("placer_order_id", sa.Integer(), nullable=False),
        sa.Column("needs_patient", sa.Boolean(), nullable=False),
        sa.Column("needs_exam", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("candidates", JSON_DOCUMENT, nullable=False),
        sa.Column("order_data", JSON_DOCUMENT, nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        _stamp("resolved_at", nullable=True),
        sa.Column("resolution", sa.String(length=2000), nullable=True),
        _stamp("created_at"),
        sa.ForeignKeyConstraint(["placer_order_id"], ["placer_order.id"],
                                name=op.f("fk_held_order_placer_order_id_placer_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_order")),
        sa.UniqueConstraint("placer_order_id", name=op.f("uq_held_order_placer_order_id")),
    )
    op.create_index("ix_held_order_open", "held_order", ["created_at"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    _worklist()
    _status_out()


def _worklist() -> None:
    op.create_table(
        "worklist_entry", _id(),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("accession_number", sa.String(length=16), nullable=False),
        sa.Column("requested_procedure_id", sa.String(length=16), nullable=False),
        sa.Column("scheduled_step_id", sa.String(length=16), nullable=False),
        sa.Column("study_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=2), nullable=False),
        sa.Column("station_ae_title", sa.String(length=16), nullable=False),
        _stamp("scheduled_start"), _stamp("updated_at"),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_worklist_entry_request_id_request")),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"],
                                name=op.f("fk_worklist_entry_appointment_id_appointment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklist_entry")),
        sa.UniqueConstraint("request_id", name=op.f("uq_worklist_entry_request_id")),
        sa.UniqueConstraint("accession_number", name=op.f("uq_worklist_entry_accession_number")),
        sa.UniqueConstraint("study_instance_uid",
                            name=op.f("uq_worklist_entry_study_instance_uid")),
    )
    op.create_index(op.f("ix_worklist_entry_appointment_id"), "worklist_entry",
                    ["appointment_id"])


def _status_out() -> None:
    op.create_table(
        "interop_subscriber", _id(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("placer_system", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interop_subscriber")),
        sa.UniqueConstraint("name", name=op.f("uq_interop_subscriber_name")),
    )
    op.create_index(op.f("ix_interop_subscriber_placer_system"), "interop_subscriber",
                    ["placer_system"])
    op.create_table(
        "interop_outbound", _id(),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("message_type", sa.String(length=40), nullable=False),
        sa.Column("control_id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        _stamp("run_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _stamp("lease_until", nullable=True),
        sa.Column("leased_by", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("response", sa.String(length=2000), nullable=True),
        _stamp("sent_at", nullable=True), _stamp("created_at"), _stamp("updated_at"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["interop_subscriber.id"],
                                name=op.f("fk_interop_outbound_subscriber_id_interop_subscriber")),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"],
                                name=op.f("fk_interop_outbound_request_id_request")),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"],
                                name=op.f("fk_interop_outbound_appointment_id_appointment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interop_outbound")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_interop_outbound_dedupe_key")),
    )
    op.create_index("ix_interop_outbound_claimable", "interop_outbound", ["run_at"],
                    sqlite_where=sa.text(CLAIMABLE), postgresql_where=sa.text(CLAIMABLE))
    op.create_index(op.f("ix_interop_outbound_state"), "interop_outbound", ["state"])
    op.create_index("ix_interop_outbound_subscriber_id_request_id", "interop_outbound",
                    ["subscriber_id", "request_id"])


def downgrade() -> None:
    for table in ("interop_outbound", "interop_subscriber", "worklist_entry", "held_order",
                  "order_code_map", "placer_order", "hl7_inbound_message"):
        op.drop_table(table)
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("postcode")
