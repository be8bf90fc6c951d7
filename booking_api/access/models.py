"""Tables and API shapes of access: staff accounts and the record of sign-in attempts that
rate limiting counts (kept in the database so limits hold across workers and restarts).

Attempts store keyed digests of the username/booking reference and of the client address,
never the values themselves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from booking_api.core.columns import code_enum, utc_now
from booking_api.core.inputs import PlainText, SafeDate, SafeText

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,39}$"


class AccountRole(StrEnum):
    """What a staff account may do; `admin` manages accounts and reads the audit trail."""

    CLERK = "clerk"
    VETTING = "vetting"
    MANAGER = "manager"
    ADMIN = "admin"


class SignInKind(StrEnum):
    STAFF = "staff"
    PATIENT = "patient"


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=40)
    display_name: str = Field(max_length=100)
    role: AccountRole = Field(sa_type=code_enum(AccountRole))
    password_hash: str = Field(max_length=200)
    active: bool = True
    token_version: int = Field(
        default=1, description="raised on a password, role or active change: old tokens die")
    created_at: datetime = Field(default_factory=utc_now)


class SignInAttempt(SQLModel, table=True):
    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_subject_at", "subject_digest", "at"),
        Index("ix_sign_in_attempt_client_at", "client_digest", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, index=True)
    kind: SignInKind = Field(sa_type=code_enum(SignInKind))
    subject_digest: str = Field(max_length=64)
    client_digest: str = Field(max_length=64)
    succeeded: bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StaffSignIn(_Strict):
    username: PlainText = PydanticField(min_length=1, max_length=100)
    password: SafeText = PydanticField(min_length=1, max_length=1024)


class PatientSignIn(_Strict):
    booking_reference: PlainText = PydanticField(
        min_length=1, max_length=40, description="as printed, e.g. JK3D-PNJE-NC (any case, "
        "spaces or dashes)")
    date_of_birth: SafeDate


class SessionToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    kind: SignInKind
    role: AccountRole | None = None


class StaffCreate(_Strict):
    username: str = PydanticField(pattern=USERNAME_PATTERN, description=(
        "2–40 characters: lower-case letters, digits, '.', '_' or '-'"))
    display_name: PlainText = PydanticField(min_length=1, max_length=100)
    role: AccountRole
    password: SafeText = PydanticField(min_length=1, max_length=1024)


class StaffUpdate(_Strict):
    display_name: PlainText | None = PydanticField(default=None, min_length=1, max_length=100)
    role: AccountRole | None = None
    active: bool | None = None


class StaffPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: AccountRole
    active: bool
    created_at: datetime


class WhoAmI(BaseModel):
    kind: SignInKind
    actor: str
    role: str | None
    patient_id: int | None = None
    request_ids: list[int] = []
