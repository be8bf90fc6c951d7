"""Offers in waves, in the caller's transaction: the first run ranks the candidates and
keeps them as queued offers (place and reasons stored); each wave offers the next few, each
offer exclusive to its wave and expiring with it; a wave's expiry (a queued job) sends the
next. No wave goes in the quiet hours (it waits for them to end), none to a patient who has
had the week's offers or holds a live offer elsewhere, and a slot too close to fill goes to
the clerks' list."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from booking_api.backfill.candidates import appointability_failures, gather_and_rank
from booking_api.backfill.models import (
    BackfillOffer,
    FreedSlot,
    FreedState,
    OfferMessage,
    OfferMessageKind,
    OfferState,
)
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.trigger import OFFERS_WRITTEN, WAVE_JOB
from booking_api.core.columns import utc_now
from booking_api.jobs.queue import enqueue
from booking_api.patients.models import ContactPreference, Patient
from booking_api.slots.models import Slot
from domain.lifecycle import SlotStatus

WEEK = timedelta(days=7)


def advance(session: Session, freed_id: int, now: datetime, policy: OfferPolicy) -> None:
    """Move one freed slot on: its first wave, or the next once the last has run out."""
    freed = session.get(FreedSlot, freed_id, with_for_update=True, populate_existing=True)
    if freed is None or freed.state not in (FreedState.PENDING, FreedState.OFFERING):
        return
    live = offered(session, freed.id)
    if any(offer.expires_at and offer.expires_at > now for offer in live):
        return  # woken before the wave ran out: its own job comes at its expiry
    for offer in live:
        offer.state = OfferState.EXPIRED
        session.add(offer)
    slot = session.get(Slot, freed.slot_id)
    assert slot is not None
    if slot.status is not SlotStatus.FREE:
        close(freed, FreedState.CLOSED, "the slot was taken by another booking")
    elif slot.start_at - now <= policy.min_notice:
        close(freed, FreedState.CLERK_LIST, "too close to fill by offers: for a clerk to "
                                            "fill by phone")
    elif policy.quiet_hours.is_quiet(now):
        resume = policy.quiet_hours.earliest_send_time(now)
        enqueue(session, WAVE_JOB, {"freed_slot_id": freed.id}, run_at=resume,
                dedupe_key=f"{WAVE_JOB}:{freed.id}:{freed.wave}:quiet")
        return
    else:
        if freed.state is FreedState.PENDING:
            _rank(session, freed, slot, now, policy)
        send_wave(session, freed, slot, now, policy)
    _withdraw_queued(session, freed)
    freed.updated_at = utc_now()
    session.add(freed)


def send_wave(session: Session, freed: FreedSlot, slot: Slot, now: datetime,
              policy: OfferPolicy, only: list[BackfillOffer] | None = None) -> int:
    """Offer the next wave (or `only` these offers); how many were offered. With none left,
    the slot goes to the clerks' list."""
    queued = only if only is not None else list(session.scalars(
        select(BackfillOffer).where(BackfillOffer.freed_slot_id == freed.id,
                                    BackfillOffer.state == OfferState.QUEUED)
        .order_by(BackfillOffer.position, BackfillOffer.id)))
    size = len(queued) if policy.everyone_at_once or only is not None else policy.wave_size
    wave = freed.wave + 1
    expires = min(now + policy.offer_time, slot.start_at - policy.min_notice)
    chosen = 0
    for offer in queued:
        if chosen >= size:
            break
        patient = session.get(Patient, offer.patient_id)
        assert patient is not None
        channels = contact_channels(patient)
        why_not = _why_not_now(session, offer, channels, now, policy)
        if why_not is not None:
            offer.state, offer.note = OfferState.WITHDRAWN, why_not
            session.add(offer)
            continue
        offer.state, offer.wave, offer.sent_at, offer.expires_at = (
            OfferState.OFFERED, wave, now, expires)
        session.add(offer)
        session.flush()
        write_messages(session, offer, OfferMessageKind.OFFER, channels, now)
        chosen += 1
    if chosen == 0:
        close(freed, FreedState.CLERK_LIST, "no candidate left to offer it to")
        return 0
    freed.state, freed.wave = FreedState.OFFERING, wave
    freed.first_offer_at = freed.first_offer_at or now
    enqueue(session, WAVE_JOB, {"freed_slot_id": freed.id}, run_at=expires,
            dedupe_key=f"{WAVE_JOB}:{freed.id}:{wave}")
    return chosen


def contact_channels(patient: Patient) -> list[str]:
    """The channels an offer can reach the patient on now (the outbox's rule)."""
    channels = []
    preference = patient.contact_preference
    if preference in (ContactPreference.SMS, ContactPreference.BOTH) and patient.phone \
            and not patient.sms_opt_out:
        channels.append("sms")
    if preference in (ContactPreference.EMAIL, ContactPreference.BOTH) and patient.email:
        channels.append("email")
    return channels


def write_messages(session: Session, offer: BackfillOffer, kind: OfferMessageKind,
                   channels: list[str], now: datetime) -> None:
    """One message row per channel, keyed so that a retry never writes a second."""
    for channel in channels:
        key = f"{offer.id}:{kind.value}:{channel}"
        if session.scalar(select(OfferMessage.id).where(OfferMessage.dedupe_key == key)):
            continue
        session.add(OfferMessage(dedupe_key=key, offer_id=offer.id or 0, kind=kind,
                                 channel=channel, run_at=now, created_at=now, updated_at=now))
    session.info[OFFERS_WRITTEN] = True


def tell_gone(session: Session, freed: FreedSlot, now: datetime, why: str,
              except_offer: int | None = None) -> None:
    """Every live offer of the slot (but `except_offer`) is over: told it has gone."""
    for offer in offered(session, freed.id):
        if offer.id == except_offer:
            continue
        offer.state, offer.note = OfferState.GONE, why
        session.add(offer)
        patient = session.get(Patient, offer.patient_id)
        assert patient is not None
        write_messages(session, offer, OfferMessageKind.GONE, contact_channels(patient), now)
    _withdraw(session, freed, why)


def close(freed: FreedSlot, state: FreedState, reason: str) -> None:
    freed.state, freed.state_reason, freed.updated_at = state, reason, utc_now()


def _rank(session: Session, freed: FreedSlot, slot: Slot, now: datetime,
          policy: OfferPolicy) -> None:
    gathered = gather_and_rank(session, slot, now, policy.ranking, limit=policy.max_candidates)
    for ranked in gathered.ranking.ranked:
        candidate = ranked.candidate
        days_sooner = ((candidate.booked_start.date() - slot.start_at.date()).days
                       if candidate.booked_start else None)
        session.add(BackfillOffer(
            freed_slot_id=freed.id or 0, request_id=candidate.request_id,
            patient_id=candidate.patient_id, source=candidate.source.value,
            position=ranked.position, reasons=list(ranked.reasons), days_sooner=days_sooner))
    freed.state_reason = (f"{len(gathered.ranking.ranked)} ranked; "
                          f"{gathered.refused + len(gathered.ranking.excluded)} ruled out")
    session.flush()


def _why_not_now(session: Session, offer: BackfillOffer, channels: list[str], now: datetime,
                 policy: OfferPolicy) -> str | None:
    if not channels:
        return "no text or email to reach the patient by"
    refused = appointability_failures(session, offer.request_id, now)
    if refused is not None:
        return refused
    week = session.scalar(select(func.count()).select_from(BackfillOffer).where(
        BackfillOffer.patient_id == offer.patient_id,
        col(BackfillOffer.sent_at) > now - WEEK)) or 0
    if week >= policy.weekly_offer_limit:
        return f"already had {week} offers this week (the limit is {policy.weekly_offer_limit})"
    live = session.scalar(select(func.count()).select_from(BackfillOffer).where(
        BackfillOffer.patient_id == offer.patient_id,
        BackfillOffer.state == OfferState.OFFERED, col(BackfillOffer.expires_at) > now)) or 0
    if live:
        return "holds a live offer of another slot"
    return None


def offered(session: Session, freed_id: int | None) -> list[BackfillOffer]:
    return list(session.scalars(select(BackfillOffer).where(
        BackfillOffer.freed_slot_id == freed_id, BackfillOffer.state == OfferState.OFFERED)))


def _withdraw_queued(session: Session, freed: FreedSlot) -> None:
    if freed.state not in (FreedState.PENDING, FreedState.OFFERING):
        _withdraw(session, freed, freed.state_reason or freed.state.value)


def _withdraw(session: Session, freed: FreedSlot, why: str) -> None:
    for offer in session.scalars(select(BackfillOffer).where(
            BackfillOffer.freed_slot_id == freed.id, BackfillOffer.state == OfferState.QUEUED)):
        offer.state, offer.note = OfferState.WITHDRAWN, why
        session.add(offer)
