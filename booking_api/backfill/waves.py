"""Offers in waves, in the caller's transaction: the first run ranks the candidates and
keeps them as queued offers (place and reasons stored); each wave offers the next few, each
offer exclusive to its wave and expiring with it; a wave's expiry (a queued job) sends the
next. No wave goes in the quiet hours (it waits for them to end), none to a patient who has
had the week's offers or holds a live offer elsewhere, and a slot too close to fill goes to
the clerks' list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from booking_api.backfill.candidates import appointability_failures_of, gather_and_rank
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
from booking_api.short_notice.models import ShortNoticeEntry
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
    the slot goes to the clerks' list. The queue's patients, their week's and live offers
    are read once for the whole queue, and the appointability rules judge the candidates a
    few at a time as they come up: a query per candidate was most of a wave's time."""
    queued = only if only is not None else list(session.scalars(
        select(BackfillOffer).where(BackfillOffer.freed_slot_id == freed.id,
                                    BackfillOffer.state == OfferState.QUEUED)
        .order_by(BackfillOffer.position, BackfillOffer.id)))
    size = len(queued) if policy.everyone_at_once or only is not None else policy.wave_size
    wave = freed.wave + 1
    expires = min(now + policy.offer_time, slot.start_at - policy.min_notice)
    counts = _OfferCounts.read(session, {offer.patient_id for offer in queued}, now)
    notice = _notice_asked(session, [offer.request_id for offer in queued])
    judged: dict[int, str | None] = {}
    sent: list[tuple[BackfillOffer, list[str]]] = []
    for index, offer in enumerate(queued):
        if len(sent) >= size:
            break
        channels = contact_channels(counts.patients[offer.patient_id])
        why_not = counts.why_not(offer.patient_id, policy) or _too_short_notice(
            notice.get(offer.request_id, 0), slot, expires)
        if why_not is None:
            if offer.request_id not in judged:
                ahead = [o.request_id for o in queued[index:] if o.request_id not in judged
                         and counts.why_not(o.patient_id, policy) is None]
                judged |= appointability_failures_of(session, ahead[:size - len(sent) + 2],
                                                     now)
            why_not = judged[offer.request_id]
        if why_not is not None:
            offer.state, offer.note = OfferState.WITHDRAWN, why_not
            session.add(offer)
            continue
        offer.state, offer.wave, offer.sent_at, offer.expires_at = (
            OfferState.OFFERED, wave, now, expires)
        session.add(offer)
        counts.offered(offer.patient_id)
        sent.append((offer, channels))
    if not sent:
        close(freed, FreedState.CLERK_LIST, "no candidate left to offer it to")
        return 0
    _write_all(session, OfferMessageKind.OFFER, sent, now)
    freed.state, freed.wave = FreedState.OFFERING, wave
    freed.first_offer_at = freed.first_offer_at or now
    enqueue(session, WAVE_JOB, {"freed_slot_id": freed.id}, run_at=expires,
            dedupe_key=f"{WAVE_JOB}:{freed.id}:{wave}")
    return len(sent)


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
    _write_all(session, kind, [(offer, channels)], now)


def tell_gone(session: Session, freed: FreedSlot, now: datetime, why: str,
              except_offer: int | None = None) -> None:
    """Every live offer of the slot (but `except_offer`) is over: told it has gone."""
    gone = [offer for offer in offered(session, freed.id) if offer.id != except_offer]
    patients = _patients(session, {offer.patient_id for offer in gone})
    for offer in gone:
        offer.state, offer.note = OfferState.GONE, why
        session.add(offer)
    _write_all(session, OfferMessageKind.GONE,
               [(offer, contact_channels(patients[offer.patient_id])) for offer in gone], now)
    _withdraw(session, freed, why)


def close(freed: FreedSlot, state: FreedState, reason: str) -> None:
    freed.state, freed.state_reason, freed.updated_at = state, reason, utc_now()


def _rank(session: Session, freed: FreedSlot, slot: Slot, now: datetime,
          policy: OfferPolicy) -> None:
    gathered = gather_and_rank(session, slot, now, policy.ranking, limit=policy.max_candidates,
                               let_go=freed.appointment_id)
    rows = []
    for ranked in gathered.ranking.ranked:
        candidate = ranked.candidate
        days_sooner = ((candidate.booked_start.date() - slot.start_at.date()).days
                       if candidate.booked_start else None)
        rows.append({"freed_slot_id": freed.id, "request_id": candidate.request_id,
                     "patient_id": candidate.patient_id, "source": candidate.source.value,
                     "position": ranked.position, "reasons": list(ranked.reasons),
                     "state": OfferState.QUEUED, "days_sooner": days_sooner})
    if rows:
        session.execute(insert(BackfillOffer), rows)
    freed.state_reason = (f"{len(gathered.ranking.ranked)} ranked; "
                          f"{gathered.refused + len(gathered.ranking.excluded)} ruled out")


@dataclass
class _OfferCounts:
    """The patients of a wave's queue with their offers of the past week and live now, read
    once for the queue and counted on as the wave offers."""

    patients: dict[int, Patient]
    this_week: dict[int, int]
    live: dict[int, int]

    @classmethod
    def read(cls, session: Session, patient_ids: set[int], now: datetime) -> _OfferCounts:
        ids = sorted(patient_ids)
        if not ids:
            return cls({}, {}, {})
        by_patient = select(BackfillOffer.patient_id, func.count()).where(
            col(BackfillOffer.patient_id).in_(ids)).group_by(BackfillOffer.patient_id)
        week = {patient: count for patient, count in session.execute(
            by_patient.where(col(BackfillOffer.sent_at) > now - WEEK))}
        live = {patient: count for patient, count in session.execute(by_patient.where(
            BackfillOffer.state == OfferState.OFFERED, col(BackfillOffer.expires_at) > now))}
        return cls(_patients(session, patient_ids), week, live)

    def why_not(self, patient_id: int, policy: OfferPolicy) -> str | None:
        """Why the patient may not be offered a slot now (None: they may)."""
        if not contact_channels(self.patients[patient_id]):
            return "no text or email to reach the patient by"
        week = self.this_week.get(patient_id, 0)
        if week >= policy.weekly_offer_limit:
            return (f"already had {week} offers this week "
                    f"(the limit is {policy.weekly_offer_limit})")
        if self.live.get(patient_id, 0):
            return "holds a live offer of another slot"
        return None

    def offered(self, patient_id: int) -> None:
        self.this_week[patient_id] = self.this_week.get(patient_id, 0) + 1
        self.live[patient_id] = self.live.get(patient_id, 0) + 1


def _notice_asked(session: Session, request_ids: list[int]) -> dict[int, int]:
    """The notice (hours) each request's patient asked for on the short-notice list."""
    if not request_ids:
        return {}
    return {request_id: hours or 0 for request_id, hours in session.execute(
        select(ShortNoticeEntry.request_id, ShortNoticeEntry.notice_hours).where(
            col(ShortNoticeEntry.request_id).in_(sorted(set(request_ids))),
            ShortNoticeEntry.active))}


def _too_short_notice(hours: int, slot: Slot, expires: datetime) -> str | None:
    """The ranking checked the patient's notice when the slot was freed; a later wave may be
    too late for it: an acceptance may come until the offer expires."""
    if hours and slot.start_at - expires < timedelta(hours=hours):
        return (f"the slot is now closer than the {hours} hours' notice the patient asked "
                "for")
    return None


def _patients(session: Session, patient_ids: set[int]) -> dict[int, Patient]:
    if not patient_ids:
        return {}
    return {patient.id: patient for patient in session.scalars(
        select(Patient).where(col(Patient.id).in_(sorted(patient_ids))))}


def _write_all(session: Session, kind: OfferMessageKind,
               offers: list[tuple[BackfillOffer, list[str]]], now: datetime) -> None:
    """The message rows of many offers (one per offer and channel), skipping any written
    before (a redirected offer's, say): one query for the lot."""
    if not offers:
        return
    keys = {f"{offer.id}:{kind.value}:{channel}": (offer, channel)
            for offer, channels in offers for channel in channels}
    written = set(session.scalars(select(OfferMessage.dedupe_key).where(
        col(OfferMessage.offer_id).in_(sorted({offer.id for offer, _ in offers})))))
    for key, (offer, channel) in keys.items():
        if key not in written:
            session.add(OfferMessage(dedupe_key=key, offer_id=offer.id or 0, kind=kind,
                                     channel=channel, run_at=now, created_at=now,
                                     updated_at=now))
    session.info[OFFERS_WRITTEN] = True


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
