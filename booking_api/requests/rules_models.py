"""What the rules layer needs stored beside a request: the protocol assigned at vetting, the
clinical facts recorded for it (eGFR, questionnaire...), and overrides of rules. Facts and
overrides are only ever inserted: the latest fact of a name counts, and history stays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from booking_api.core.columns import JSONDocument, code_enum, utc_now
from domain.vocabulary import Priority
from slot_rules.overrides import OverrideRole


class RequestProtocol(SQLModel, table=True):
    """The vetting decision's protocol: the exam to do and how (one row per request)."""

    __tablename__ = "request_protocol"

    request_id: int = Field(foreign_key="request.id", primary_key=True)
    exam_code: str = Field(foreign_key="exam_type.code", max_length=40)
    protocol: str = Field(max_length=200)
    contrast: bool
    sedation: bool
    special_requirements: str | None = Field(default=None, max_length=2000)
    priority: Priority = Field(sa_type=code_enum(Priority))
    assigned_by: str = Field(max_length=100)
    assigned_at: datetime = Field(default_factory=utc_now)


class RequestFact(SQLModel, table=True):
    """One recorded fact about a request's patient or exam; `value` is {"value": ...} with
    dates as ISO text (decoded by the fact registry's type)."""

    __tablename__ = "request_fact"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    name: str = Field(max_length=60)
    value: dict[str, Any] = Field(sa_type=JSONDocument)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(default_factory=utc_now)


class RuleOverride(SQLModel, table=True):
    """A person setting one rule aside for one request, with the reason they gave."""

    __tablename__ = "rule_override"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    ruleset: str = Field(max_length=60)
    rule_id: str = Field(max_length=60)
    role: OverrideRole = Field(sa_type=code_enum(OverrideRole))
    actor: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    at: datetime = Field(default_factory=utc_now)
