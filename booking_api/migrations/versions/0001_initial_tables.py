"""Initial tables: network reference data, patients, requests and their events, diary
sessions and slots, appointments (one active per slot, by partial unique index), audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=60), nullable=False),
        sa.Column("before", JSON_DOCUMENT, nullable=True),
        sa.Column("after", JSON_DOCUMENT, nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"], unique=False)
    op.create_index(
        op.f("ix_audit_event_correlation_id"), "audit_event", ["correlation_id"], unique=False
    )
    op.create_index(
        "ix_audit_event_entity_entity_id", "audit_event", ["entity", "entity_id"], unique=False
    )

    op.create_table(
        "exam_type",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("body_part", sa.String(length=100), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("required_capabilities", sa.String(length=500), nullable=False),
        sa.Column("contrast", sa.Boolean(), nullable=False),
        sa.Column("radiologist_present", sa.Boolean(), nullable=False),
        sa.Column("ionising", sa.Boolean(), nullable=False),
        sa.Column("fasting_hours", sa.Integer(), nullable=False),
        sa.Column("full_bladder", sa.Boolean(), nullable=False),
        sa.Column("bowel_prep", sa.Boolean(), nullable=False),
        sa.Column("min_notice_days", sa.Integer(), nullable=False),
        sa.Column("preparation", sa.String(length=2000), nullable=False),
        sa.Column("relative_frequency", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_exam_type")),
    )
    op.create_table(
        "ics",
        sa.Column("ics_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("ics_id", name=op.f("pk_ics")),
    )
    op.create_table(
        "demand_area",
        sa.Column("area_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ics_id", sa.String(length=40), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("population_weight", sa.Float(), nullable=False),
        sa.Column("imd_decile", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ics_id"], ["ics.ics_id"], name=op.f("fk_demand_area_ics_id_ics")),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_demand_area")),
    )
    op.create_index(op.f("ix_demand_area_ics_id"), "demand_area", ["ics_id"], unique=False)

    op.create_table(
        "trust",
        sa.Column("trust_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ics_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["ics_id"], ["ics.ics_id"], name=op.f("fk_trust_ics_id_ics")),
        sa.PrimaryKeyConstraint("trust_id", name=op.f("pk_trust")),
    )
    op.create_index(op.f("ix_trust_ics_id"), "trust", ["ics_id"], unique=False)

    op.create_table(
        "patient",
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("postcode_district", sa.String(length=8), nullable=False),
        sa.Column("area_id", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("needs_step_free", sa.Boolean(), nullable=False),
        sa.Column("needs_hoist", sa.Boolean(), nullable=False),
        sa.Column("interpreter_language", sa.String(length=50), nullable=True),
        sa.Column("needs_transport", sa.Boolean(), nullable=False),
        sa.Column("sms_opt_out", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["demand_area.area_id"], name=op.f("fk_patient_area_id_demand_area")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_patient_nhs_number")),
    )
    op.create_index(op.f("ix_patient_area_id"), "patient", ["area_id"], unique=False)

    op.create_table(
        "site",
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("trust_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("postcode_district", sa.String(length=8), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("weekday_opens", sa.Time(), nullable=True),
        sa.Column("weekday_closes", sa.Time(), nullable=True),
        sa.Column("saturday_opens", sa.Time(), nullable=True),
        sa.Column("saturday_closes", sa.Time(), nullable=True),
        sa.Column("sunday_opens", sa.Time(), nullable=True),
        sa.Column("sunday_closes", sa.Time(), nullable=True),
        sa.Column("step_free", sa.Boolean(), nullable=False),
        sa.Column("hoist", sa.Boolean(), nullable=False),
        sa.Column("parking", sa.String(length=500), nullable=False),
        sa.Column("public_transport", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.trust_id"], name=op.f("fk_site_trust_id_trust")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site")),
    )
    op.create_index(op.f("ix_site_trust_id"), "site", ["trust_id"], unique=False)

    op.create_table(
        "request",
        sa.Column("exam_code", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("earliest_date", sa.Date(), nullable=True),
        sa.Column("latest_date", sa.Date(), nullable=True),
        sa.Column("referrer", sa.String(length=200), nullable=False),
        sa.Column("clinical_question", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("booking_reference", sa.String(length=12), nullable=False),
        sa.Column("vetted_by", sa.String(length=100), nullable=True),
        sa.Column("vetted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("protocol", sa.String(length=200), nullable=True),
        sa.Column("vetting_note", sa.String(length=2000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_code"], ["exam_type.code"], name=op.f("fk_request_exam_code_exam_type")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_request_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request")),
        sa.UniqueConstraint("booking_reference", name=op.f("uq_request_booking_reference")),
    )
    op.create_index(op.f("ix_request_exam_code"), "request", ["exam_code"], unique=False)
    op.create_index(op.f("ix_request_patient_id"), "request", ["patient_id"], unique=False)
    op.create_index(op.f("ix_request_state"), "request", ["state"], unique=False)

    op.create_table(
        "room",
        sa.Column("room_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("capabilities", sa.String(length=500), nullable=False),
        sa.Column("max_weight_kg", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.site_id"], name=op.f("fk_room_site_id_site")),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_room")),
    )
    op.create_index(op.f("ix_room_site_id"), "room", ["site_id"], unique=False)

    op.create_table(
        "staff_group",
        sa.Column("staff_group_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("skills", sa.String(length=500), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("sessions_per_week", sa.Integer(), nullable=False),
        sa.Column("works_evenings", sa.Boolean(), nullable=False),
        sa.Column("works_weekends", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.site_id"], name=op.f("fk_staff_group_site_id_site")
        ),
        sa.PrimaryKeyConstraint("staff_group_id", name=op.f("pk_staff_group")),
    )
    op.create_index(op.f("ix_staff_group_site_id"), "staff_group", ["site_id"], unique=False)

    op.create_table(
        "diary_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=40), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("template_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.room_id"], name=op.f("fk_diary_session_room_id_room")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_session")),
        sa.UniqueConstraint(
            "room_id",
            "session_date",
            "period",
            name=op.f("uq_diary_session_room_id_session_date_period"),
        ),
    )
    op.create_index(
        op.f("ix_diary_session_session_date"), "diary_session", ["session_date"], unique=False
    )

    op.create_table(
        "request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["request.id"], name=op.f("fk_request_event_request_id_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_event")),
    )
    op.create_index(
        op.f("ix_request_event_request_id"), "request_event", ["request_id"], unique=False
    )

    op.create_table(
        "slot",
        sa.Column("room_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=40), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("families", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.room_id"], name=op.f("fk_slot_room_id_room")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["diary_session.id"], name=op.f("fk_slot_session_id_diary_session")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.site_id"], name=op.f("fk_slot_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot")),
        sa.UniqueConstraint("room_id", "start_at", name=op.f("uq_slot_room_id_start_at")),
    )
    op.create_index("ix_slot_modality_start_at", "slot", ["modality", "start_at"], unique=False)
    op.create_index(op.f("ix_slot_session_id"), "slot", ["session_id"], unique=False)
    op.create_index("ix_slot_site_id_start_at", "slot", ["site_id", "start_at"], unique=False)

    op.create_table(
        "appointment",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_appointment_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["request.id"], name=op.f("fk_appointment_request_id_request")
        ),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"], name=op.f("fk_appointment_slot_id_slot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    op.create_index(op.f("ix_appointment_patient_id"), "appointment", ["patient_id"], unique=False)
    op.create_index(op.f("ix_appointment_request_id"), "appointment", ["request_id"], unique=False)
    op.create_index(op.f("ix_appointment_slot_id"), "appointment", ["slot_id"], unique=False)
    op.create_index(
        "uq_appointment_active_slot",
        "appointment",
        ["slot_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('held', 'booked')"),
        postgresql_where=sa.text("state IN ('held', 'booked')"),
    )


def downgrade() -> None:
    op.drop_table("appointment")
    op.drop_table("slot")
    op.drop_table("request_event")
    op.drop_table("diary_session")
    op.drop_table("staff_group")
    op.drop_table("room")
    op.drop_table("request")
    op.drop_table("site")
    op.drop_table("patient")
    op.drop_table("trust")
    op.drop_table("demand_area")
    op.drop_table("ics")
    op.drop_table("exam_type")
    op.drop_table("audit_event")
