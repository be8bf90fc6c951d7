"""Backfill's tables: a freed slot (why and when it came free, where its offers stand), the
offers made for it (who, in what place, why, their answer) and the offer messages (claimed
and sent like the outbox's, with the same leases). Offers and messages are only ever
updated forward: the rows are the trail a clerk reads out or a complaint reply quotes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from booking_api.core.columns import JSONDocument, code_enum, utc_now


class FreedState(StrEnum):
    PENDING = "pending"
    """Queued for its first wave (the job runs at once, or when the quiet hours end)."""
    OFFERING = "offering"
    FILLED = "filled"
    CLERK_LIST = "clerk_list"
    """Too close to fill by offers, or offers ran out: for a clerk to fill by phone."""
    STOPPED = "stopped"
    """A member of staff stopped the offers."""
    CLOSED = "closed"
    """Nothing to do: the slot was taken again meanwhile, or it has started."""


class OfferState(StrEnum):
    QUEUED = "queued"
    """Ranked, waiting for its wave."""
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    GONE = "gone"
    """Someone else took the slot first (the patient is told)."""
    WITHDRAWN = "withdrawn"
    """Never sent or taken back: filled, stopped, redirected, or skipped (`note` says why)."""
    FAILED = "failed"
    """Accepted, but the booking service refused it (`note` says why)."""


OPEN_OFFER_STATES = (OfferState.QUEUED, OfferState.OFFERED)


class FreedSlot(SQLModel, table=True):
    __tablename__ = "freed_slot"
    __table_args__ = (Index("ix_freed_slot_state", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    site_id: str = Field(max_length=40)
    start_at: datetime
    freed_at: datetime
    cause: str = Field(max_length=32, description="appointments.changes.FreedBy")
    appointment_id: int | None = Field(default=None, description="the appointment let go")
    parent_id: int | None = Field(default=None, foreign_key="freed_slot.id",
                                  description="the freed slot whose acceptance freed this one")
    depth: int = Field(default=0, description="0 at a cancellation, +1 per cascade step")
    state: FreedState = Field(default=FreedState.PENDING, sa_type=code_enum(FreedState))
    state_reason: str | None = Field(default=None, max_length=500)
    wave: int = Field(default=0, description="the wave last sent")
    filled_offer_id: int | None = None
    first_offer_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utc_now)


class BackfillOffer(SQLModel, table=True):
    __tablename__ = "backfill_offer"
    __table_args__ = (
        UniqueConstraint("freed_slot_id", "request_id"),
        Index("ix_backfill_offer_patient_sent", "patient_id", "sent_at"),
        Index("ix_backfill_offer_live", "patient_id", "expires_at",
              sqlite_where=text("state = 'offered'"), postgresql_where=text("state = 'offered'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    freed_slot_id: int = Field(foreign_key="freed_slot.id", index=True)
    request_id: int = Field(foreign_key="request.id")
    patient_id: int = Field(foreign_key="patient.id")
    source: str = Field(max_length=20, description="optimiser.backfill.CandidateSource")
    position: int = Field(description="place in the ranking (1 first)")
    reasons: list[Any] = Field(sa_type=JSONDocument, description="why in that place")
    state: OfferState = Field(default=OfferState.QUEUED, sa_type=code_enum(OfferState))
    wave: int | None = None
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    answered_at: datetime | None = None
    answer_channel: str | None = Field(default=None, max_length=20)
    appointment_id: int | None = Field(default=None, description="the booking it made")
    note: str | None = Field(default=None, max_length=500)
    days_sooner: int | None = Field(default=None,
                                    description="how much earlier than their booking, if any")


class OfferMessageKind(StrEnum):
    OFFER = "offer"
    GONE = "gone"
    """The slot went to someone else, or the offers stopped."""


class OfferMessage(SQLModel, table=True):
    """One text or email about an offer; a row per (offer, kind, channel)."""

    __tablename__ = "offer_message"
    __table_args__ = (
        Index("ix_offer_message_claimable_run_at", "run_at",
              sqlite_where=text("state IN ('pending', 'sending')"),
              postgresql_where=text("state IN ('pending', 'sending')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=80, unique=True)
    offer_id: int = Field(foreign_key="backfill_offer.id", index=True)
    kind: OfferMessageKind = Field(sa_type=code_enum(OfferMessageKind))
    channel: str = Field(max_length=10)
    state: str = Field(default="pending", max_length=16,
                       description="outbox.MessageStatus codes")
    run_at: datetime
    attempts: int = 0
    lease_until: datetime | None = None
    leased_by: str | None = Field(default=None, max_length=120)
    provider_id: str | None = Field(default=None, max_length=250)
    sent_at: datetime | None = None
    sent_to: str | None = Field(default=None, max_length=254)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
