"""The trigger: as a transaction that freed slots commits (a cancellation, a change, a lapsed
hold, an unblocking, a repair, an accepted offer's old slot), each freed slot gets its row
and, in the same transaction, a queued backfill job (or, when it starts too soon for any
candidate's notice, a place on the clerks' list). The appointment services note the freed
slots (`appointments.changes.SlotFreed`); this context, above them, acts on them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from booking_api.appointments.changes import FreedBy, SlotFreed
from booking_api.backfill.models import FreedSlot, FreedState
from booking_api.backfill.policy import OfferPolicy
from booking_api.core.changes import take_changes
from booking_api.core.columns import split_codes, utc_now
from booking_api.core.db import SessionHook
from booking_api.jobs.queue import enqueue
from booking_api.outbox.policy import Doorbell
from booking_api.slots.models import Slot
from domain.exams import exam_catalogue

BACKFILL_JOB = "backfill"
WAVE_JOB = "backfill_wave"
CASCADE_PARENT = "cdip_backfill_parent"
"""`session.info` key: (freed slot id, depth) of the offer being accepted in this
transaction, so the slot its patient leaves is recorded as the next step of the cascade."""
_RUNG = "cdip_backfill_queued"
OFFERS_WRITTEN = "cdip_offer_messages_written"
"""`session.info` key: this transaction wrote offer messages (ring as it commits)."""


def attach_backfill(policy: OfferPolicy, doorbell: Doorbell | None = None) -> SessionHook:
    """A session hook (`core.db.with_session_hooks`) recording freed slots as sessions
    commit; attach after the outbox's (which wires the noting of changes)."""

    def attach(factory: sessionmaker[Session]) -> None:
        event.listen(factory, "before_commit", lambda session: _record(session, policy))
        if doorbell is not None:
            event.listen(factory, "after_commit", lambda session: _ring(session, doorbell))

    return attach


def shortest_notice(slot: Slot, policy: OfferPolicy) -> timedelta:
    """The least notice any candidate could take this slot at: the policy's floor, or the
    shortest preparation notice of the exams its session runs, whichever is longer."""
    families = set(split_codes(slot.families))
    days = [exam.min_notice_days for exam in exam_catalogue().values()
            if exam.modality.value == slot.modality.value and exam.family.value in families]
    return max(policy.min_notice, timedelta(days=min(days, default=0)))


def _record(session: Session, policy: OfferPolicy) -> None:
    freed = take_changes(session, SlotFreed)
    seen: set[int] = set()
    for change in freed:
        if change.slot_id in seen:
            continue
        seen.add(change.slot_id)
        if _record_one(session, change, policy):
            session.info[_RUNG] = True


def _record_one(session: Session, change: SlotFreed, policy: OfferPolicy) -> bool:
    slot = session.get(Slot, change.slot_id)
    now = change.at
    if slot is None or slot.start_at <= now:
        return False
    session.connection().execute(
        update(FreedSlot).where(FreedSlot.slot_id == slot.id,
                                FreedSlot.state.in_([FreedState.PENDING, FreedState.OFFERING]))
        .values(state=FreedState.CLOSED, state_reason="freed again", updated_at=utc_now()))
    parent_id, depth = None, 0
    if change.cause is FreedBy.OFFER_TAKEN and CASCADE_PARENT in session.info:
        parent_id, parent_depth = session.info[CASCADE_PARENT]
        depth = parent_depth + 1
    row = FreedSlot(slot_id=slot.id, site_id=slot.site_id, start_at=slot.start_at,
                    freed_at=now, cause=change.cause.value,
                    appointment_id=change.appointment_id, parent_id=parent_id, depth=depth,
                    updated_at=utc_now())
    too_soon = slot.start_at - now <= shortest_notice(slot, policy)
    if too_soon or depth > policy.max_cascade_depth:
        row.state = FreedState.CLERK_LIST
        row.state_reason = (_too_soon_words(slot.start_at, now) if too_soon
                            else f"cascade deeper than {policy.max_cascade_depth} steps")
    session.add(row)
    session.flush()
    if row.state is FreedState.PENDING:
        enqueue(session, BACKFILL_JOB, {"freed_slot_id": row.id}, run_at=now,
                dedupe_key=f"{BACKFILL_JOB}:{row.id}")
        return True
    return False


def _too_soon_words(start: datetime, now: datetime) -> str:
    hours = (start - now).total_seconds() / 3600
    return f"starts in {hours:.1f} hours: too soon for offers, for a clerk to fill by phone"


def _ring(session: Session, doorbell: Doorbell) -> None:
    queued = session.info.pop(_RUNG, False)
    if session.info.pop(OFFERS_WRITTEN, False) or queued:
        doorbell.ring()


def open_freed_slots(session: Session, slot_id: int) -> list[FreedSlot]:
    """The freed-slot rows of a slot still being offered."""
    return list(session.scalars(select(FreedSlot).where(
        FreedSlot.slot_id == slot_id,
        FreedSlot.state.in_([FreedState.PENDING, FreedState.OFFERING]))))
