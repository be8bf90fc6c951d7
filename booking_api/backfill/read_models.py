"""What staff and pages read of backfill: a freed slot's offer trail (who, when, in what
place and why, their answer), the clerks' list, and one offer as its signed link shows it.
Frozen values, read in one session each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from booking_api.backfill.links import offer_of_token
from booking_api.backfill.models import BackfillOffer, FreedSlot, FreedState, OfferState
from booking_api.core.db import Database
from booking_api.core.errors import NotFound
from booking_api.network.models import Site
from booking_api.requests.models import Request
from domain.exams import exam_catalogue


@dataclass(frozen=True)
class TrailEntry:
    offer_id: int
    position: int
    request_id: int
    patient_id: int
    source: str
    reasons: tuple[str, ...]
    state: str
    wave: int | None
    sent_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    answer_channel: str | None
    note: str | None


@dataclass(frozen=True)
class FreedSummary:
    id: int
    slot_id: int
    site_id: str
    start_at: datetime
    freed_at: datetime
    cause: str
    state: str
    state_reason: str | None
    depth: int
    parent_id: int | None
    wave: int
    first_offer_at: datetime | None
    filled_offer_id: int | None


@dataclass(frozen=True)
class Trail:
    freed: FreedSummary
    offers: tuple[TrailEntry, ...]


@dataclass(frozen=True)
class OfferView:
    """An offer as its patient sees it."""

    offer_id: int
    start: datetime
    site: str
    exam: str
    expires_at: datetime | None
    state: str
    open: bool


def trail(db: Database, freed_id: int) -> Trail:
    with db.reading() as session:
        freed = session.get(FreedSlot, freed_id)
        if freed is None:
            raise NotFound("freed slot", freed_id, "freed_slot_id")
        offers = session.scalars(select(BackfillOffer).where(
            BackfillOffer.freed_slot_id == freed_id)
            .order_by(BackfillOffer.position, BackfillOffer.id)).all()
        return Trail(_summary(freed), tuple(_entry(o) for o in offers))


def trails_of_slot(db: Database, slot_id: int) -> list[Trail]:
    with db.reading() as session:
        ids = session.scalars(select(FreedSlot.id).where(FreedSlot.slot_id == slot_id)
                              .order_by(FreedSlot.id)).all()
    return [trail(db, freed_id) for freed_id in ids]


def freed_slots(db: Database, state: FreedState | str | None = None,
                limit: int = 100) -> list[FreedSummary]:
    """Freed slots, newest first (`state`: the clerks' list, say; ValueError if unknown)."""
    state = FreedState(state) if state else None
    with db.reading() as session:
        query = select(FreedSlot).order_by(col(FreedSlot.freed_at).desc(),
                                           col(FreedSlot.id).desc()).limit(limit)
        if state is not None:
            query = query.where(FreedSlot.state == state)
        return [_summary(f) for f in session.scalars(query)]


def offer_view(db: Database, secret: str, token: str, now: datetime) -> OfferView:
    """The offer a signed link names (NotFound for a link that is not ours)."""
    offer_id = offer_of_token(secret, token)
    with db.reading() as session:
        offer = session.get(BackfillOffer, offer_id)
        if offer is None:
            raise NotFound("offer", "for this link", "token")
        freed = session.get(FreedSlot, offer.freed_slot_id)
        site = session.get(Site, freed.site_id)
        request = session.get(Request, offer.request_id)
        exam = exam_catalogue().get(request.exam_code)
        live = (offer.state is OfferState.OFFERED and freed.state is FreedState.OFFERING
                and offer.expires_at is not None and offer.expires_at > now)
        return OfferView(offer.id or 0, freed.start_at, site.name if site else freed.site_id,
                         exam.name if exam else request.exam_code, offer.expires_at,
                         offer.state.value, live)


def _summary(freed: FreedSlot) -> FreedSummary:
    return FreedSummary(freed.id or 0, freed.slot_id, freed.site_id, freed.start_at,
                        freed.freed_at, freed.cause, freed.state.value, freed.state_reason,
                        freed.depth, freed.parent_id, freed.wave, freed.first_offer_at,
                        freed.filled_offer_id)


def _entry(offer: BackfillOffer) -> TrailEntry:
    return TrailEntry(offer.id or 0, offer.position, offer.request_id, offer.patient_id,
                      offer.source, tuple(offer.reasons or ()), offer.state.value, offer.wave,
                      offer.sent_at, offer.expires_at, offer.answered_at, offer.answer_channel,
                      offer.note)
