"""Blocking and unblocking slots (staff): a blocked slot is FHIR `busy-unavailable` and no
path can book it; unblocking makes it free again. Withdrawing a slot from the diary
(`entered-in-error`) is an administrator's action. A slot someone holds or has booked cannot
be blocked: move or cancel the appointment first. One audit event per slot changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.appointments.changes import FreedBy, note_slot_freed
from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.appointments.services import required_text
from booking_api.appointments.taking import expire_hold, is_stale_hold, mark_slots
from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import ChangeRefused, NotFound
from booking_api.slots.models import Slot
from domain.lifecycle import SlotStatus

CLOSING = {SlotStatus.BUSY_UNAVAILABLE: "slot.blocked",
           SlotStatus.ENTERED_IN_ERROR: "slot.withdrawn"}


def block_slot(session: Session, actor: Actor, slot_id: int, reason: str, *,
               now: datetime) -> Slot:
    """Take a free slot out of use (equipment down, staff short); reason required."""
    return _close(session, actor, slot_id, reason, SlotStatus.BUSY_UNAVAILABLE, now)


def withdraw_slot(session: Session, actor: Actor, slot_id: int, reason: str, *,
                  now: datetime) -> Slot:
    """Mark a slot that should never have existed as entered-in-error (administrators)."""
    return _close(session, actor, slot_id, reason, SlotStatus.ENTERED_IN_ERROR, now)


def unblock_slot(session: Session, actor: Actor, slot_id: int, reason: str, *,
                 now: datetime) -> Slot:
    """Put a blocked slot back into use."""
    reason = required_text(reason, "reason")
    slot = _locked_slot(session, slot_id)
    if slot.status is not SlotStatus.BUSY_UNAVAILABLE:
        raise ChangeRefused(f"slot {slot_id} is {slot.status.value}, not blocked", "slot_id")
    before = {"status": slot.status.value}
    mark_slots(session, [slot], SlotStatus.FREE)
    note_slot_freed(session, slot.id or 0, slot.start_at, now, FreedBy.UNBLOCKED)
    record_audit(session, actor, "slot.unblocked", "slot", slot_id, before=before,
                 after={"status": slot.status.value}, reason=reason)
    session.flush()
    return slot


def _close(session: Session, actor: Actor, slot_id: int, reason: str, target: SlotStatus,
           now: datetime) -> Slot:
    reason = required_text(reason, "reason")
    slot = _locked_slot(session, slot_id)
    _expire_stale_holds_on(session, slot, now)
    if slot.status is target:
        raise ChangeRefused(f"slot {slot_id} is already {target.value}", "slot_id")
    if slot.status is not SlotStatus.FREE and not (
            target is SlotStatus.ENTERED_IN_ERROR and slot.status is SlotStatus.BUSY_UNAVAILABLE):
        raise ChangeRefused(f"slot {slot_id} is {slot.status.value}: someone holds or has "
                            "booked it; move or cancel that appointment first", "slot_id")
    before = {"status": slot.status.value}
    mark_slots(session, [slot], target)
    record_audit(session, actor, CLOSING[target], "slot", slot_id, before=before,
                 after={"status": target.value}, reason=reason)
    session.flush()
    return slot


def _locked_slot(session: Session, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id, with_for_update=True, populate_existing=True)
    if slot is None:
        raise NotFound("slot", slot_id, "slot_id")
    return slot


def _expire_stale_holds_on(session: Session, slot: Slot, now: datetime) -> None:
    holds = session.scalars(select(Appointment).where(
        Appointment.room_id == slot.room_id, col(Appointment.state).in_(ACTIVE_STATES),
        col(Appointment.start_at) < slot.end_at, col(Appointment.end_at) > slot.start_at))
    for hold in list(holds):
        if is_stale_hold(hold, now):
            expire_hold(session, Actor("system:booking", hold.channel), hold, now)
    session.flush()

