"""Tables of the network's reference data, mirrored from `domain.network` and the exam
catalogue. Natural codes are the primary keys, so the files and the database agree on names
and re-loading the files is an upsert."""

from __future__ import annotations

from datetime import time

from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum
from domain.vocabulary import ExamFamily, Modality, SiteKind, StaffRole

ID_LENGTH = 40


class IntegratedCareSystem(SQLModel, table=True):
    __tablename__ = "ics"

    ics_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)


class Trust(SQLModel, table=True):
    __tablename__ = "trust"

    trust_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)
    ics_id: str = Field(foreign_key="ics.ics_id", index=True, max_length=ID_LENGTH)


class SiteBase(SQLModel):
    site_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)
    trust_id: str = Field(foreign_key="trust.trust_id", index=True, max_length=ID_LENGTH)
    kind: SiteKind = Field(sa_type=code_enum(SiteKind))
    postcode_district: str = Field(max_length=8)
    lat: float
    lon: float
    weekday_opens: time | None = None
    weekday_closes: time | None = None
    saturday_opens: time | None = None
    saturday_closes: time | None = None
    sunday_opens: time | None = None
    sunday_closes: time | None = None
    step_free: bool
    hoist: bool
    parking: str = Field(max_length=500)
    public_transport: str = Field(max_length=500)
    age_limit_years: int | None = Field(
        default=None, description="patients must be younger than this (a children's "
                                  "hospital); null: all ages")


class Site(SiteBase, table=True):
    __tablename__ = "site"



class RoomBase(SQLModel):
    room_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    site_id: str = Field(foreign_key="site.site_id", index=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)
    modality: Modality = Field(sa_type=code_enum(Modality))
    capabilities: str = Field(default="", max_length=500,
                              description="capability codes joined by ';', sorted")
    max_weight_kg: int


class Room(RoomBase, table=True):
    __tablename__ = "room"



class ExamTypeBase(SQLModel):
    code: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)
    modality: Modality = Field(sa_type=code_enum(Modality))
    family: ExamFamily = Field(sa_type=code_enum(ExamFamily))
    body_part: str = Field(max_length=100)
    duration_min: int
    required_capabilities: str = Field(default="", max_length=500)
    contrast: bool
    radiologist_present: bool
    ionising: bool
    fasting_hours: int
    full_bladder: bool
    bowel_prep: bool
    min_notice_days: int
    preparation: str = Field(max_length=2000)


class ExamType(ExamTypeBase, table=True):
    __tablename__ = "exam_type"

    relative_frequency: float



class StaffGroup(SQLModel, table=True):
    __tablename__ = "staff_group"

    staff_group_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    site_id: str = Field(foreign_key="site.site_id", index=True, max_length=ID_LENGTH)
    role: StaffRole = Field(sa_type=code_enum(StaffRole))
    skills: str = Field(max_length=500, description="modality/capability codes joined by ';'")
    headcount: int
    sessions_per_week: int
    works_evenings: bool
    works_weekends: bool


class DemandArea(SQLModel, table=True):
    __tablename__ = "demand_area"

    area_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)
    ics_id: str = Field(foreign_key="ics.ics_id", index=True, max_length=ID_LENGTH)
    lat: float
    lon: float
    population_weight: float
    imd_decile: int
