"""The appointment table. The database itself refuses a second active (held or booked)
appointment on one slot, through a partial unique index, whatever path the booking took."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from booking_api.core.channel import Channel
from booking_api.core.columns import code_enum, utc_now
from domain.lifecycle import AppointmentState

ACTIVE_STATES = tuple(state for state in AppointmentState if state.is_active)
ACTIVE_STATES_SQL = "state IN ({})".format(", ".join(f"'{state.value}'" for state in ACTIVE_STATES))

ONE_ACTIVE_APPOINTMENT_PER_SLOT = "uq_appointment_active_slot"


class AppointmentBase(SQLModel):
    request_id: int = Field(foreign_key="request.id", index=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    channel: Channel = Field(sa_type=code_enum(Channel))


class Appointment(AppointmentBase, table=True):
    __tablename__ = "appointment"
    __table_args__ = (
        Index(
            ONE_ACTIVE_APPOINTMENT_PER_SLOT,
            "slot_id",
            unique=True,
            sqlite_where=text(ACTIVE_STATES_SQL),
            postgresql_where=text(ACTIVE_STATES_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    state: AppointmentState = Field(sa_type=code_enum(AppointmentState))
    held_until: datetime | None = None
    booked_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utc_now)


class AppointmentCreate(AppointmentBase):
    pass


class AppointmentPublic(AppointmentBase):
    id: int
    patient_id: int
    state: AppointmentState
    held_until: datetime | None
    booked_at: datetime | None
    cancelled_at: datetime | None
