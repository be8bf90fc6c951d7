"""The appointment table. The database itself refuses a second active (held or booked)
appointment on one slot, through a partial unique index, whatever path the booking took; on
PostgreSQL an exclusion constraint also refuses two active appointments whose time ranges
overlap in one room (an exam longer than one slot covers the slots after its first).

On PostgreSQL a second exclusion constraint refuses two
active appointments of one patient that overlap in time (a clerk's `overlap_reason` exempts
one).

An appointment repeats the room and the time range it occupies (`room_id`, `start_at`,
`end_at`), so those constraints need no join. `change_seq` is stamped by the database on
every change: the slot search index reads what committed since its last look through it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, text
from sqlmodel import Field, SQLModel

from booking_api.core.channel import Channel
from booking_api.core.columns import code_enum, utc_now
from domain.lifecycle import AppointmentState

ACTIVE_STATES = tuple(state for state in AppointmentState if state.is_active)
ACTIVE_STATES_SQL = "state IN ({})".format(", ".join(f"'{state.value}'" for state in ACTIVE_STATES))

ONE_ACTIVE_APPOINTMENT_PER_SLOT = "uq_appointment_active_slot"
HELD_SQL = f"state = '{AppointmentState.HELD.value}'"
LIVE_HOLDS_INDEX = "ix_appointment_held_until"
"""Holds by expiry, for the hold sweeper: a few rows, however many appointments there are."""
NO_OVERLAP_IN_A_ROOM = "ex_appointment_active_room_time"
"""PostgreSQL only (btree_gist): active appointments in one room never overlap in time."""
NO_OVERLAP_FOR_A_PATIENT = "ex_appointment_active_patient_time"
"""PostgreSQL only (btree_gist): a patient's active appointments never overlap in time,
unless a clerk booked one anyway (`overlap_reason`). The travel allowance between sites is
checked by the booking path under the patient's lock (`appointments.taking`)."""


class AppointmentBase(SQLModel):
    request_id: int = Field(foreign_key="request.id", index=True)
    slot_id: int = Field(foreign_key="slot.id", index=True,
                         description="the first slot the appointment occupies")
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
        Index("ix_appointment_room_id_start_at", "room_id", "start_at"),
        Index(LIVE_HOLDS_INDEX, "held_until", sqlite_where=text(HELD_SQL),
              postgresql_where=text(HELD_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    state: AppointmentState = Field(sa_type=code_enum(AppointmentState))
    room_id: str | None = Field(default=None, foreign_key="room.room_id", max_length=40)
    start_at: datetime | None = None
    end_at: datetime | None = Field(default=None,
                                    description="end of the last slot the exam occupies")
    held_until: datetime | None = None
    hold_extended: bool = Field(
        default=False, description="the hold has been extended at least once (up to ten times)")
    booked_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=2000)
    overlap_reason: str | None = Field(
        default=None, max_length=2000,
        description="why a clerk booked this time although it clashes with another of the "
                    "patient's appointments (none: it clashes with none)")
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now, index=True)
    change_seq: int = Field(default=0, index=True, sa_type=BigInteger,
                            sa_column_kwargs={"server_default": "0"},
                            description="written by the database on every insert and update "
                                        "(booking_api.core.change_stamps)")



class AppointmentPublic(AppointmentBase):
    id: int
    patient_id: int
    state: AppointmentState
    fhir_status: str = Field(description="FHIR R4 Appointment.status, one-to-one with state")
    room_id: str | None
    site_id: str | None = None
    start_at: datetime | None
    end_at: datetime | None
    held_until: datetime | None
    hold_extended: bool
    booked_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    overlap_reason: str | None = None

    @classmethod
    def of(cls, appointment: Appointment, site_id: str | None = None) -> AppointmentPublic:
        return cls(**appointment.model_dump(), fhir_status=appointment.state.fhir_status,
                   site_id=site_id)
