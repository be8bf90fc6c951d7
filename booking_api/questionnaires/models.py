"""A patient's answers to one questionnaire for one request, kept exactly as sent: the
evidence behind the request facts recorded from them (each fact's `recorded_by` names the
response). Only ever inserted; one per request and questionnaire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from booking_api.core.channel import Channel
from booking_api.core.columns import JSONDocument, code_enum, utc_now


class QuestionnaireResponseBase(SQLModel):
    questionnaire: str = Field(max_length=40, description="domain.questionnaires name")
    version: str = Field(max_length=20, description="the questionnaire's version when answered")
    answers: dict[str, Any] = Field(sa_type=JSONDocument,
                                    description="question id → 'yes' or 'no'")


class QuestionnaireResponse(QuestionnaireResponseBase, table=True):
    __tablename__ = "questionnaire_response"
    __table_args__ = (UniqueConstraint("request_id", "questionnaire",
                                       name="uq_questionnaire_response_request"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    patient_id: int = Field(foreign_key="patient.id")
    answered_by: str = Field(max_length=100)
    channel: Channel = Field(sa_type=code_enum(Channel))
    answered_at: datetime = Field(default_factory=utc_now)
