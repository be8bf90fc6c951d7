"""Tables of the diary context beyond sessions and slots: the demand history a trust exported
(kept as counts per day, not per patient: planning needs no more) and disruptions, the
first-class record of a room down, staff short, a list cancelled or added."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum, utc_now
from domain.vocabulary import AgeBand, ExamFamily, Priority, SessionPeriod, StaffRole


class HistoryImport(SQLModel, table=True):
    """One `cdip history import`: which export, the days it covers, how many requests."""

    __tablename__ = "history_import"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=500)
    first_date: date
    last_date: date
    requests: int
    imported_at: datetime = Field(default_factory=utc_now)
    imported_by: str = Field(max_length=100)


class HistoryDemand(SQLModel, table=True):
    """Requests an export says reached imaging in one whole week (Monday to Sunday), per
    family, area, priority and age band: what forecasts fit on and the mix is drawn from."""

    __tablename__ = "history_demand"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="history_import.id", index=True)
    week_start: date = Field(index=True, description="Monday of a whole week")
    exam_family: ExamFamily = Field(sa_type=code_enum(ExamFamily))
    area_id: str = Field(max_length=40)
    priority: Priority = Field(sa_type=code_enum(Priority))
    age_band: AgeBand = Field(sa_type=code_enum(AgeBand))
    requests: int


class DisruptionKind(StrEnum):
    ROOM_DOWN = "room_down"
    SITE_CLOSED = "site_closed"
    STAFF_SHORT = "staff_short"
    SESSION_CANCELLED = "session_cancelled"
    EXTRA_LIST = "extra_list"


class DisruptionState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class DisruptionBase(SQLModel):
    kind: DisruptionKind = Field(sa_type=code_enum(DisruptionKind))
    room_id: str | None = Field(default=None, max_length=40,
                                description="room_down, session_cancelled, extra_list")
    site_id: str | None = Field(default=None, max_length=40,
                                description="site_closed, staff_short")
    role: StaffRole | None = Field(default=None, sa_type=code_enum(StaffRole),
                                   description="staff_short: the role short")
    people: int | None = Field(default=None, description="staff_short: how many fewer")
    first_day: date
    last_day: date = Field(description="inclusive; the same as first_day for one session")
    period: SessionPeriod | None = Field(default=None, sa_type=code_enum(SessionPeriod),
                                         description="session_cancelled, extra_list")
    template_id: str | None = Field(default=None, max_length=40,
                                    description="extra_list: the list's template")
    reason: str = Field(max_length=2000)


class DisruptionCreate(SQLModel):
    """What a manager reports; which fields a kind needs is checked by the service."""

    kind: DisruptionKind
    room_id: str | None = Field(default=None, max_length=40)
    site_id: str | None = Field(default=None, max_length=40)
    role: StaffRole | None = None
    people: int | None = Field(default=None, ge=1, le=1000)
    first_day: date
    last_day: date | None = None
    period: SessionPeriod | None = None
    template_id: str | None = Field(default=None, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)


class Disruption(DisruptionBase, table=True):
    __tablename__ = "disruption"

    id: int | None = Field(default=None, primary_key=True)
    state: DisruptionState = Field(default=DisruptionState.ACTIVE,
                                   sa_type=code_enum(DisruptionState), index=True)
    created_at: datetime = Field(default_factory=utc_now)
    created_by: str = Field(max_length=100)
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=100)
    revoke_reason: str | None = Field(default=None, max_length=2000)


class DisruptionPublic(DisruptionBase):
    id: int
    state: DisruptionState
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


class RepairFollowUp(SQLModel, table=True):
    """A booked patient a diary repair could not move: their slot is lost and a clerk must
    agree another time with them (the clerks' worklist reads the open ones)."""

    __tablename__ = "repair_follow_up"

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    reason: str = Field(max_length=2000)
    disruption_ids: str = Field(default="", max_length=500,
                                description="the disruptions repaired, joined by ';'")
    created_at: datetime = Field(default_factory=utc_now)
    resolved_at: datetime | None = None
