"""The patient table. Personal data lives here and in nothing that is logged."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum, utc_now


class ContactPreference(StrEnum):
    """How the patient wants to hear from us. NONE: by post only (a letter list for staff)."""

    SMS = "sms"
    EMAIL = "email"
    BOTH = "both"
    NONE = "none"


class PatientBase(SQLModel):
    nhs_number: str | None = Field(default=None, unique=True, max_length=10,
                                   description="10 digits, no spaces; optional")
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: date = Field(index=True)
    postcode_district: str = Field(max_length=8)
    postcode: str | None = Field(default=None, max_length=8,
                                 description="the full postcode, e.g. B15 2TH, when known")
    area_id: str | None = Field(default=None, foreign_key="demand_area.area_id", index=True,
                                max_length=40)
    phone: str | None = Field(default=None, max_length=20, description="E.164, e.g. +447700900123")
    email: str | None = Field(default=None, max_length=254)
    needs_step_free: bool = False
    needs_hoist: bool = False
    interpreter_language: str | None = Field(default=None, max_length=50)
    needs_transport: bool = False
    sms_opt_out: bool = Field(default=False, description="replied STOP; START undoes it")
    contact_preference: ContactPreference = Field(default=ContactPreference.BOTH,
                                                  sa_type=code_enum(ContactPreference))


class Patient(PatientBase, table=True):
    __tablename__ = "patient"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now)
