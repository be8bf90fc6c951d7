"""Backfill processes, each one transaction over the `Database`: run a freed slot's next
wave (the queued job), a patient's answer to an offer (by link or text), and staff stopping
or redirecting a slot's offers.

The first valid acceptance wins: the freed slot's row is locked first, so answers to one
slot take turns; the winner books through the booking service (`book_slot`, or for a patient
already booked later `reschedule`, whose freed old slot is itself backfilled: a cascade);
every other live offer hears that the slot has gone. The database's one-active-booking index
has the last word, as on every booking path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session

from booking_api.appointments.changes import FreedBy
from booking_api.appointments.flows import reschedule
from booking_api.appointments.models import Appointment
from booking_api.appointments.services import book_slot, required_text
from booking_api.audit.services import Actor, record_audit
from booking_api.backfill.candidates import check_one
from booking_api.backfill.models import (
    BackfillOffer,
    FreedSlot,
    FreedState,
    OfferState,
)
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.trigger import CASCADE_PARENT
from booking_api.backfill.waves import advance, close, offered, send_wave, tell_gone
from booking_api.core.channel import Channel
from booking_api.core.columns import utc_now
from booking_api.core.db import Database
from booking_api.core.errors import BookingError, ChangeRefused, NotFound, SlotTaken
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, RequestState


class Outcome(StrEnum):
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    GONE = "gone"
    EXPIRED = "expired"
    CLOSED = "closed"
    DECLINED = "declined"
    REFUSED = "refused"


@dataclass(frozen=True)
class OfferAnswer:
    """What became of a patient's answer, in words to show or text back."""

    outcome: Outcome
    message: str
    appointment_id: int | None = None


def run_wave(db: Database, freed_id: int, now: datetime, policy: OfferPolicy) -> None:
    """The queued job: the slot's first or next wave (or its end)."""
    with db.transaction() as session:
        advance(session, freed_id, now, policy)


def accept_offer(db: Database, offer_id: int, *, channel: str, now: datetime,
                 patient_id: int | None = None) -> OfferAnswer:
    """Book the offered slot for the patient if the offer is live and the slot still theirs
    to take; otherwise say clearly why not, changing nothing. Twice is once."""
    try:
        with db.transaction() as session:
            return _accept(session, offer_id, channel, now, patient_id)
    except SlotTaken:
        return _record_refusal(db, offer_id, now, "the slot was taken by another booking",
                               Outcome.GONE, close_slot=True)
    except BookingError as error:
        if isinstance(error, NotFound) and error.field == "offer_id":
            raise
        return _record_refusal(db, offer_id, now, str(error), Outcome.REFUSED)


def decline_offer(db: Database, offer_id: int, *, channel: str, now: datetime,
                  policy: OfferPolicy, patient_id: int | None = None) -> OfferAnswer:
    """The patient says no: the next wave goes at once when nobody else's offer is live."""
    with db.transaction() as session:
        offer, freed = _locked(session, offer_id, patient_id)
        if offer.state is not OfferState.OFFERED:
            return _not_open(offer, freed, now)
        offer.state, offer.answered_at, offer.answer_channel = (
            OfferState.DECLINED, now, channel)
        session.add(offer)
        session.flush()
        if freed.state is FreedState.OFFERING and not any(
                o.expires_at and o.expires_at > now for o in offered(session, freed.id)):
            advance(session, freed.id or 0, now, policy)
        return OfferAnswer(Outcome.DECLINED, "Thank you for letting us know. Your current "
                                             "appointment (if you have one) is unchanged.")


def stop_offers(db: Database, actor: Actor, freed_id: int, reason: str, *,
                now: datetime) -> FreedSlot:
    """Staff stop a slot's offers: live offers are told it has gone; nothing more is sent."""
    reason = required_text(reason, "reason")
    with db.transaction() as session:
        freed = _open_freed(session, freed_id)
        tell_gone(session, freed, now, f"offers stopped by staff: {reason}")
        close(freed, FreedState.STOPPED, f"stopped by {actor.name}: {reason}")
        session.add(freed)
        record_audit(session, actor, "backfill.stopped", "freed_slot", freed_id, reason=reason)
        session.flush()
        session.expunge(freed)
        return freed


def redirect_offers(db: Database, actor: Actor, freed_id: int, request_id: int, reason: str,
                    *, now: datetime, policy: OfferPolicy) -> BackfillOffer:
    """Staff offer the slot to one chosen request instead (its rules checked like anyone's);
    the offers live now are told it has gone."""
    reason = required_text(reason, "reason")
    with db.transaction() as session:
        freed = _open_freed(session, freed_id)
        slot = session.get(Slot, freed.slot_id)
        assert slot is not None
        candidate = check_one(session, slot, request_id, now, policy.ranking)
        tell_gone(session, freed, now, f"redirected by staff: {reason}")
        offer = session.scalar(select(BackfillOffer).where(
            BackfillOffer.freed_slot_id == freed_id, BackfillOffer.request_id == request_id))
        if offer is None:
            offer = BackfillOffer(freed_slot_id=freed_id, request_id=request_id,
                                  patient_id=candidate.patient_id,
                                  source=candidate.source.value, position=0, reasons=[])
        offer.state, offer.position, offer.note = OfferState.QUEUED, 0, None
        offer.reasons = [f"chosen by {actor.name}: {reason}"]
        session.add(offer)
        session.flush()
        freed.state = FreedState.OFFERING
        if send_wave(session, freed, slot, now, policy, only=[offer]) == 0:
            raise ChangeRefused(f"request {request_id} cannot be offered it now: "
                                f"{offer.note}", "request_id")
        session.add(freed)
        record_audit(session, actor, "backfill.redirected", "freed_slot", freed_id,
                     after={"request_id": request_id}, reason=reason)
        session.flush()
        session.expunge(offer)
        return offer


def _accept(session: Session, offer_id: int, channel: str, now: datetime,
            patient_id: int | None) -> OfferAnswer:
    offer, freed = _locked(session, offer_id, patient_id)
    if offer.state is OfferState.ACCEPTED:
        return OfferAnswer(Outcome.ALREADY_BOOKED, "You have already accepted this offer: "
                           "the appointment is booked.", offer.appointment_id)
    if offer.state is not OfferState.OFFERED or freed.state is not FreedState.OFFERING:
        return _not_open(offer, freed, now)
    if offer.expires_at is None or offer.expires_at <= now:
        offer.state = OfferState.EXPIRED
        session.add(offer)
        return _not_open(offer, freed, now)
    actor = Actor(f"patient:{offer.patient_id}", Channel.BACKFILL, role="patient")
    session.info[CASCADE_PARENT] = (freed.id, freed.depth)
    appointment = _book(session, actor, offer, freed, now)
    offer.state, offer.answered_at, offer.answer_channel = OfferState.ACCEPTED, now, channel
    offer.appointment_id = appointment.id
    session.add(offer)
    close(freed, FreedState.FILLED, f"taken by offer {offer.id}")
    freed.filled_offer_id = offer.id
    session.add(freed)
    tell_gone(session, freed, now, "someone else accepted first", except_offer=offer.id)
    record_audit(session, actor, "backfill.accepted", "backfill_offer", offer.id or 0,
                 after={"appointment_id": appointment.id, "freed_slot_id": freed.id,
                        "channel": channel})
    return OfferAnswer(Outcome.BOOKED, "Your new appointment is booked. We will send you "
                       "the details.", appointment.id)


def _book(session: Session, actor: Actor, offer: BackfillOffer, freed: FreedSlot,
          now: datetime) -> Appointment:
    request = session.get(Request, offer.request_id)
    assert request is not None
    reason = f"accepted an earlier slot offered by backfill (offer {offer.id})"
    if request.state is RequestState.APPOINTED:
        current = session.scalar(select(Appointment).where(
            Appointment.request_id == request.id,
            Appointment.state == AppointmentState.BOOKED))
        if current is None:
            raise ChangeRefused("the patient's booking could not be found", "offer_id")
        return reschedule(session, actor, current.id or 0, freed.slot_id, reason=reason,
                          now=now, freed_cause=FreedBy.OFFER_TAKEN)
    return book_slot(session, actor, offer.request_id, freed.slot_id, now=now, reason=reason)


def _locked(session: Session, offer_id: int,
            patient_id: int | None) -> tuple[BackfillOffer, FreedSlot]:
    """The offer and its freed slot, the slot's row locked first (answers take turns)."""
    offer = session.get(BackfillOffer, offer_id)
    if offer is None or (patient_id is not None and offer.patient_id != patient_id):
        raise NotFound("offer", offer_id, "offer_id")
    freed = session.get(FreedSlot, offer.freed_slot_id, with_for_update=True,
                        populate_existing=True)
    offer = session.get(BackfillOffer, offer_id, populate_existing=True)
    assert freed is not None and offer is not None
    return offer, freed


def _not_open(offer: BackfillOffer, freed: FreedSlot, now: datetime) -> OfferAnswer:
    if freed.state is FreedState.FILLED and freed.filled_offer_id != offer.id:
        return OfferAnswer(Outcome.GONE, "Sorry, this appointment has already been taken by "
                           "someone else. Your current appointment (if you have one) is "
                           "unchanged.")
    if offer.state is OfferState.EXPIRED or (offer.expires_at and offer.expires_at <= now):
        return OfferAnswer(Outcome.EXPIRED, "Sorry, this offer has expired. Your current "
                           "appointment (if you have one) is unchanged.")
    if offer.state is OfferState.DECLINED:
        return OfferAnswer(Outcome.DECLINED, "You said no to this offer; nothing has changed.")
    return OfferAnswer(Outcome.CLOSED, "Sorry, this offer is no longer open. Your current "
                       "appointment (if you have one) is unchanged.")


def _record_refusal(db: Database, offer_id: int, now: datetime, why: str, outcome: Outcome,
                    close_slot: bool = False) -> OfferAnswer:
    with db.transaction() as session:
        offer, freed = _locked(session, offer_id, None)
        if offer.state is OfferState.OFFERED:
            offer.state, offer.answered_at, offer.note = OfferState.FAILED, now, why[:500]
            session.add(offer)
        if close_slot and freed.state is FreedState.OFFERING:
            tell_gone(session, freed, now, why, except_offer=offer.id)
            close(freed, FreedState.CLOSED, why)
            session.add(freed)
    if outcome is Outcome.GONE:
        return OfferAnswer(Outcome.GONE, "Sorry, this appointment has already been taken. "
                           "Your current appointment (if you have one) is unchanged.")
    return OfferAnswer(outcome, f"Sorry, we could not book this time for you ({why}). "
                       "Your current appointment (if you have one) is unchanged.")


def _open_freed(session: Session, freed_id: int) -> FreedSlot:
    freed = session.get(FreedSlot, freed_id, with_for_update=True, populate_existing=True)
    if freed is None:
        raise NotFound("freed slot", freed_id, "freed_slot_id")
    if freed.state not in (FreedState.PENDING, FreedState.OFFERING):
        raise ChangeRefused(f"freed slot {freed_id} is {freed.state.value}; only a slot "
                            "still being offered can be stopped or redirected", "freed_slot_id")
    freed.updated_at = utc_now()
    return freed
