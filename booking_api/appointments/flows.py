"""Booking processes of more than one step, in the caller's transaction: rescheduling (take
the new time, then release the old), holding a new time in place of the one held before, and
a member of staff booking on a patient's behalf with rule overrides. Single-step operations
live in `services`; `journey` runs these for the pages, one transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from booking_api.appointments import services
from booking_api.appointments.changes import (
    AppointmentChange,
    FreedBy,
    note_appointment_change,
    note_slot_freed,
)
from booking_api.appointments.models import Appointment
from booking_api.appointments.taking import Claim, release, take_slot
from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import ChangeRefused, InvalidInput, NotPermitted
from domain.lifecycle import AppointmentState
from slot_rules.overrides import Override, OverrideRefused, OverrideRole

HOLD_RELEASED = "patient chose another time"
BOOKING_ROLES = frozenset({"clerk", "vetting", "manager", "admin"})
"""Staff roles that may book on a patient's behalf."""

OVERRIDE_ROLE_OF_STAFF = {"clerk": OverrideRole.CLERK, "manager": OverrideRole.CLERK,
                          "admin": OverrideRole.CLERK, "vetting": OverrideRole.RADIOLOGIST}
"""The clinical authority a staff role carries when it sets a slot rule aside: vetting staff
(radiologists) may set aside what a radiologist may; everyone else what a clerk may."""


@dataclass(frozen=True)
class RuleOverride:
    """A request from staff to set one slot rule aside for this booking, and why."""

    rule_id: str
    reason: str


def hold_instead(session: Session, actor: Actor, request_id: int, slot_id: int,
                 previous_hold: int | None, *, now: datetime, hold_minutes: int,
                 patient_id: int | None = None) -> Appointment:
    """Hold the slot, first letting go of `previous_hold` if it is still held (a patient who
    went back and chose another time keeps one hold, never two)."""
    if previous_hold:
        held = services.get_appointment(session, previous_hold, patient_id)
        if held.state is AppointmentState.HELD:
            services.cancel_appointment(session, actor, previous_hold, HOLD_RELEASED, now=now,
                                        patient_id=patient_id)
    return services.hold_slot(session, actor, request_id, slot_id, now=now,
                              hold_minutes=hold_minutes, patient_id=patient_id)


def book_on_behalf(session: Session, actor: Actor, request_id: int, slot_id: int, *,
                   reason: str, overrides: Sequence[RuleOverride] = (),
                   set_aside: Sequence[Override] = (),
                   overlap_reason: str | None = None, now: datetime) -> Appointment:
    """A member of staff books a slot for a patient, optionally overriding slot rules, or a
    clash with another of the patient's appointments (`overlap_reason`); the reasons and
    every override are recorded in the audit events. `set_aside`: slot-rule overrides
    already recorded on the request by someone with the authority (a radiologist), applied
    to this booking too."""
    _require_booking_role(actor)
    reason = services.required_text(reason, "reason")
    rule_overrides = [*staff_overrides(actor, overrides), *set_aside]
    return services.book_slot(session, actor, request_id, slot_id, now=now,
                              overrides=rule_overrides, reason=reason,
                              overlap_reason=staff_overlap_reason(actor, overlap_reason))


def staff_overlap_reason(actor: Actor, overlap_reason: str | None) -> str | None:
    """A clerk's reason to book a patient at a time that clashes with another of their
    appointments: only staff who may book for patients give one, and never a blank one."""
    if overlap_reason is None:
        return None
    _require_booking_role(actor)
    return services.required_text(overlap_reason, "overlap_reason")


def _require_booking_role(actor: Actor) -> None:
    if actor.role not in BOOKING_ROLES:
        raise NotPermitted(f"booking for a patient needs one of the roles "
                           f"{', '.join(sorted(BOOKING_ROLES))}; you are {actor.role}")


def staff_overrides(actor: Actor, overrides: Sequence[RuleOverride]) -> list[Override]:
    """slot_rules overrides made by this staff member; InvalidInput names a blank reason."""
    role = OVERRIDE_ROLE_OF_STAFF.get(actor.role or "")
    if overrides and role is None:
        raise NotPermitted(f"a {actor.role} may not override slot rules")
    made = []
    for index, override in enumerate(overrides):
        try:
            made.append(Override(override.rule_id, role, actor.name, override.reason))
        except OverrideRefused as refused:
            raise InvalidInput(str(refused), f"overrides[{index}].reason") from refused
    return made


def reschedule(session: Session, actor: Actor, appointment_id: int, new_slot_id: int, *,
               reason: str, now: datetime, patient_id: int | None = None,
               overrides: Sequence[Override] = (), by_service: bool = False,
               overlap_reason: str | None = None,
               freed_cause: FreedBy | None = None) -> Appointment:
    """Move a booking to another slot atomically, in the caller's transaction: the old
    booking is released, then the new slot booked; a failure at either step rolls back both,
    leaving the original booking as it was. Released first, the old time never clashes with
    the new (a move an hour later, or onto the next slots of the same room). The patient
    hears of it once, as a change (`by_service`: with an apology). The old slot is noted as
    freed (`freed_cause`, default: a change or a repair) for backfill."""
    reason = services.required_text(reason, "reason")
    overlap_reason = staff_overlap_reason(actor, overlap_reason)
    old = services.locked_appointment(session, appointment_id, patient_id)
    if old.state is not AppointmentState.BOOKED:
        raise ChangeRefused(f"appointment {appointment_id} is {old.state.value}; only a booked "
                            "appointment can be rescheduled", "appointment_id")
    before = _release_old(session, old, reason, now)
    new = _take_new(session, actor, old, new_slot_id, now, overrides, overlap_reason)
    record_audit(session, actor, "appointment.rescheduled_from", "appointment", old.id or 0,
                 before=before, after={"state": old.state.value, "replaced_by": new.id},
                 reason=reason)
    assert old.start_at is not None
    note_slot_freed(session, old.slot_id, old.start_at, now,
                    freed_cause or (FreedBy.REPAIR if by_service else FreedBy.CHANGED), old.id)
    note_appointment_change(session, AppointmentChange.MOVED, new, now, previous_id=old.id,
                            by_service=by_service)
    return new


def _take_new(session: Session, actor: Actor, old: Appointment, slot_id: int, now: datetime,
              overrides: Sequence[Override], overlap_reason: str | None) -> Appointment:
    claim = Claim(old.request_id, slot_id, AppointmentState.BOOKED, overrides=tuple(overrides),
                  replacing=old.id, overlap_reason=overlap_reason)
    new = take_slot(session, actor, claim, now).appointment
    record_audit(session, actor, "appointment.rescheduled_to", "appointment", new.id or 0,
                 before=None, after={"state": new.state.value, "slot_id": new.slot_id,
                                     "replaces": old.id})
    return new


def _release_old(session: Session, old: Appointment, reason: str,
                 now: datetime) -> dict[str, object]:
    """Cancel the old booking and free its slots, written at once (flushed) so that taking
    the new time sees it gone; returns what it was, for the audit event."""
    before: dict[str, object] = {"state": old.state.value, "slot_id": old.slot_id}
    old.state = AppointmentState.CANCELLED
    old.cancelled_at = now
    old.cancel_reason = f"rescheduled: {reason}"
    session.add(old)
    release(session, old)
    session.flush()
    return before
