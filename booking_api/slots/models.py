"""Diary sessions and slots. A slot repeats its room's site and modality so that a search
across the network ("CT slots from Tuesday", "slots at this site next week") is one index
range scan without joins."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum, utc_now
from domain.lifecycle import SlotStatus
from domain.vocabulary import Modality, SessionPeriod


class DiarySessionStatus(StrEnum):
    """Whether a planned session runs: `open` sessions offer slots, `cancelled` do not."""

    OPEN = "open"
    CANCELLED = "cancelled"


class DiarySession(SQLModel, table=True):
    __tablename__ = "diary_session"
    __table_args__ = (UniqueConstraint("room_id", "session_date", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="room.room_id", max_length=40)
    session_date: date = Field(index=True)
    period: SessionPeriod = Field(sa_type=code_enum(SessionPeriod))
    template_id: str | None = Field(default=None, max_length=40)
    status: DiarySessionStatus = Field(default=DiarySessionStatus.OPEN,
                                       sa_type=code_enum(DiarySessionStatus))


class SlotBase(SQLModel):
    room_id: str = Field(foreign_key="room.room_id", max_length=40)
    site_id: str = Field(foreign_key="site.site_id", max_length=40)
    start_at: datetime
    end_at: datetime
    modality: Modality = Field(sa_type=code_enum(Modality))
    families: str = Field(max_length=500, description="exam family codes joined by ';'")
    status: SlotStatus = Field(default=SlotStatus.FREE, sa_type=code_enum(SlotStatus))


class Slot(SlotBase, table=True):
    __tablename__ = "slot"
    __table_args__ = (
        UniqueConstraint("room_id", "start_at"),
        Index("ix_slot_modality_start_at", "modality", "start_at"),
        Index("ix_slot_site_id_start_at", "site_id", "start_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="diary_session.id", index=True)
    template_id: str | None = Field(default=None, max_length=40)
    version: int = Field(default=1, description="bumped on every change (optimistic locking)")
    changed_at: datetime = Field(default_factory=utc_now, index=True,
                                 description="set on insert and every change (search index)")
    change_seq: int = Field(default=0, index=True, sa_type=BigInteger,
                            sa_column_kwargs={"server_default": "0"},
                            description="written by the database on every insert and update "
                                        "(booking_api.core.change_stamps)")


class SlotPublic(SlotBase):
    """A slot as the API shows it, with its FHIR R4 status."""

    id: int
    fhir_status: str = Field(description="FHIR R4 Slot.status")
    version: int

    @classmethod
    def of(cls, slot: Slot) -> SlotPublic:
        return cls(**slot.model_dump(), fhir_status=slot.status.value)
