"""Booking operations: hold, extend a hold, book (from a hold or directly), cancel, mark
attended or DNA, sweep stale holds, and read a patient's appointments.

Each runs inside the caller's transaction (the caller commits; on any exception it rolls back,
so a refused operation changes nothing), takes an explicit `Actor` and `now`, and writes one
audit event per appointment it changes. Occupying time goes through `taking.take_slot` only.
`patient_id`, when given, scopes every lookup to that patient: another patient's appointment
or request is reported as not found, so its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session, col

from booking_api.appointments.changes import (
    AppointmentChange,
    freed_by_cancelling,
    note_appointment_change,
    note_slot_freed,
)
from booking_api.appointments.models import HELD_SQL, Appointment
from booking_api.appointments.taking import (
    Claim,
    expire_hold,
    is_stale_hold,
    mark_slots,
    release,
    slots_of,
    take_slot,
)
from booking_api.audit.reads import Reader, record_read
from booking_api.audit.services import Actor, record_audit
from booking_api.core.channel import Channel
from booking_api.core.columns import utc_now
from booking_api.core.errors import (
    ChangeRefused,
    HoldExpired,
    InvalidInput,
    NotFound,
)
from booking_api.requests.models import Request
from booking_api.requests.services import (
    RequestChangeRefused,
    reopen_request,
    transition_request,
)
from domain.lifecycle import (
    AppointmentState,
    IllegalTransition,
    RequestState,
    SlotStatus,
    check_appointment_transition,
)
from slot_rules.overrides import Override
from slot_rules.slot_request import LONDON

SWEEPER = Actor("system:hold-sweeper", Channel.SYSTEM)
REQUEST_AFTER = {AppointmentState.ATTENDED: RequestState.ATTENDED,
                 AppointmentState.DNA: RequestState.DNA}
HOLD_EXTENSIONS_ALLOWED = 10
"""How many times a hold can be given more time (WCAG 2.2.1 asks for at least ten): each
extension adds `hold_minutes`, so a hold lasts at most `hold_minutes` × 11 from when it was
taken, and nobody can keep a time from other patients for longer."""


def hold_slot(session: Session, actor: Actor, request_id: int, slot_id: int, *, now: datetime,
              hold_minutes: int, patient_id: int | None = None) -> Appointment:
    """Hold a slot for a request for `hold_minutes`; the hold lapses by itself after that."""
    claim = Claim(request_id, slot_id, AppointmentState.HELD,
                  held_until=now + timedelta(minutes=hold_minutes), patient_id=patient_id)
    appointment = take_slot(session, actor, claim, now).appointment
    _audit(session, actor, appointment, "appointment.held", None)
    return appointment


def extend_hold(session: Session, actor: Actor, appointment_id: int, *, now: datetime,
                hold_minutes: int, patient_id: int | None = None) -> Appointment:
    """Add `hold_minutes` to a live hold's time left (pressed at once, it still gains the
    full time). Extensions repeat up to `HOLD_EXTENSIONS_ALLOWED`: the hold's end can never
    pass `hold_ceiling`."""
    hold = locked_appointment(session, appointment_id, patient_id)
    _require_live_hold(hold, now)
    assert hold.held_until is not None
    extended_until = hold.held_until + timedelta(minutes=hold_minutes)
    if extended_until > hold_ceiling(hold, hold_minutes):
        raise ChangeRefused(f"this hold has already been extended {HOLD_EXTENSIONS_ALLOWED} "
                            "times, the most allowed; book it or let it go", "appointment_id")
    before = _snapshot(hold)
    hold.held_until = extended_until
    hold.hold_extended = True
    hold.updated_at = utc_now()
    session.add(hold)
    _audit(session, actor, hold, "appointment.hold_extended", before)
    return hold


def hold_ceiling(hold: Appointment, hold_minutes: int) -> datetime:
    """The latest a hold can be extended to: its first `hold_minutes` from when it was taken
    plus `HOLD_EXTENSIONS_ALLOWED` more."""
    return hold.created_at + timedelta(minutes=hold_minutes * (1 + HOLD_EXTENSIONS_ALLOWED))


def book_hold(session: Session, actor: Actor, appointment_id: int, *, now: datetime,
              patient_id: int | None = None) -> Appointment:
    """Turn a live hold into a booking; an expired hold is refused (HoldExpired)."""
    hold = locked_appointment(session, appointment_id, patient_id)
    _require_live_hold(hold, now)
    before = _snapshot(hold)
    hold.state = AppointmentState.BOOKED
    hold.booked_at = now
    hold.held_until = None
    hold.updated_at = utc_now()
    session.add(hold)
    mark_slots(session, slots_of(session, hold), SlotStatus.BUSY)
    _request_to(session, actor, hold.request_id, RequestState.APPOINTED, "booked")
    _audit(session, actor, hold, "appointment.booked", before)
    note_appointment_change(session, AppointmentChange.BOOKED, hold, now)
    return hold


def book_slot(session: Session, actor: Actor, request_id: int, slot_id: int, *, now: datetime,
              patient_id: int | None = None, overrides: Sequence[Override] = (),
              reason: str | None = None, overlap_reason: str | None = None) -> Appointment:
    """Book a slot directly (no hold first); `overrides` set slot rules aside and
    `overlap_reason` a clash with another of the patient's appointments (clerks: the flows
    check who may)."""
    claim = Claim(request_id, slot_id, AppointmentState.BOOKED, overrides=tuple(overrides),
                  patient_id=patient_id, overlap_reason=overlap_reason)
    appointment, request = take_slot(session, actor, claim, now)
    _audit(session, actor, appointment, "appointment.booked", None, reason=reason,
           overrides=overrides)
    _request_to(session, actor, request, RequestState.APPOINTED, reason or "booked")
    note_appointment_change(session, AppointmentChange.BOOKED, appointment, now,
                            request=request)
    return appointment


def cancel_appointment(session: Session, actor: Actor, appointment_id: int, reason: str, *,
                       now: datetime, patient_id: int | None = None,
                       by_service: bool = False) -> Appointment:
    """Cancel a hold or a booking, with a reason; its slots are free again at once and a
    booking's request goes where the rules place it now (`reopen_request`). The patient is
    told of a cancelled booking (`by_service`: with an apology, the service cancelled it for
    its own reasons), not of a hold let go."""
    reason = required_text(reason, "reason")
    appointment = locked_appointment(session, appointment_id, patient_id)
    was_booked = appointment.state is AppointmentState.BOOKED
    before = _change_state(appointment, AppointmentState.CANCELLED, now)
    appointment.cancelled_at = now
    appointment.cancel_reason = reason
    session.add(appointment)
    release(session, appointment)
    if was_booked:
        _reopen_request(session, actor, appointment.request_id,
                        f"appointment cancelled: {reason}", now)
        note_appointment_change(session, AppointmentChange.CANCELLED, appointment, now,
                                by_service=by_service)
        assert appointment.start_at is not None
        note_slot_freed(session, appointment.slot_id, appointment.start_at, now,
                        freed_by_cancelling(actor.channel, by_service), appointment.id)
    _audit(session, actor, appointment, "appointment.cancelled", before, reason=reason)
    return appointment


def record_outcome(session: Session, actor: Actor, appointment_id: int,
                   outcome: AppointmentState, *, now: datetime) -> Appointment:
    """Mark a booked appointment attended or DNA (did not attend); the request follows."""
    if outcome not in REQUEST_AFTER:
        raise InvalidInput("outcome must be 'attended' or 'dna'", "outcome")
    appointment = locked_appointment(session, appointment_id, None)
    before = _change_state(appointment, outcome, now)
    session.add(appointment)
    _request_to(session, actor, appointment.request_id, REQUEST_AFTER[outcome], str(outcome))
    _audit(session, actor, appointment, f"appointment.{outcome.value}", before)
    return appointment


def sweep_expired_holds(session: Session, now: datetime, actor: Actor = SWEEPER,
                        limit: int | None = None) -> int:
    """Expire holds whose time has passed, the oldest first and at most `limit` (the booking
    path also expires them on the time it wants; this sweeper tidies the rest). Holds another
    transaction has locked are left for the next sweep. Returns how many it expired."""
    stale = session.scalars(
        select(Appointment).where(text(HELD_SQL),  # a literal: it matches the partial index
                                  col(Appointment.held_until) <= now)
        .order_by(Appointment.id).limit(limit).with_for_update(skip_locked=True))
    count = 0
    for hold in stale:
        expire_hold(session, actor, hold, now)
        count += 1
    session.flush()
    return count


def get_appointment(session: Session, appointment_id: int, patient_id: int | None = None,
                    reader: Reader | None = None) -> Appointment:
    """One appointment; NotFound if absent or (for a patient) not theirs. A staff `reader`
    is logged as having read it (`audit.reads`)."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or (patient_id is not None and appointment.patient_id != patient_id):
        raise NotFound("appointment", appointment_id, "appointment_id")
    record_read(session, reader, appointment.patient_id, "appointment", appointment_id)
    return appointment


def appointments_of_patient(session: Session, patient_id: int,
                            reader: Reader | None = None) -> list[Appointment]:
    """A patient's appointments, soonest first (cancelled ones included, for their history).
    A staff `reader` is logged as having read them."""
    appointments = list(session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id)
        .order_by(col(Appointment.start_at), col(Appointment.id))))
    record_read(session, reader, patient_id, "appointments")
    return appointments


def own_request(session: Session, request_id: int, patient_id: int | None) -> Request:
    """The request; NotFound if absent or (for a patient) not theirs."""
    request = session.get(Request, request_id)
    if request is None or (patient_id is not None and request.patient_id != patient_id):
        raise NotFound("request", request_id, "request_id")
    return request


def required_text(value: str | None, field: str) -> str:
    """A non-blank text value, stripped; InvalidInput naming the field otherwise."""
    if value is None or not value.strip():
        raise InvalidInput(f"{field} is required and must not be blank", field)
    return value.strip()


def locked_appointment(session: Session, appointment_id: int,
                       patient_id: int | None) -> Appointment:
    """The appointment, locked for the rest of the transaction (PostgreSQL); rows are always
    locked in the order appointment, request, slots, so two changes cannot deadlock."""
    get_appointment(session, appointment_id, patient_id)
    locked = session.get(Appointment, appointment_id, with_for_update=True,
                         populate_existing=True)
    assert locked is not None
    return locked


def _require_live_hold(hold: Appointment, now: datetime) -> None:
    if hold.state is not AppointmentState.HELD:
        raise ChangeRefused(f"appointment {hold.id} is {hold.state.value}, not held",
                            "appointment_id")
    if is_stale_hold(hold, now):
        raise HoldExpired(hold.id or 0)


def _change_state(appointment: Appointment, target: AppointmentState,
                  now: datetime) -> dict[str, Any]:
    try:
        check_appointment_transition(appointment.state, target)
    except IllegalTransition as error:
        raise ChangeRefused(str(error), "appointment_id") from error
    before = _snapshot(appointment)
    appointment.state = target
    appointment.updated_at = utc_now()
    return before


def _request_to(session: Session, actor: Actor, request: Request | int,
                target: RequestState, reason: str) -> None:
    if not isinstance(request, Request):
        request = session.get(Request, request)
    assert request is not None
    if request.state is target:
        return
    try:
        transition_request(session, request, target, actor, reason)
    except RequestChangeRefused as refused:
        raise ChangeRefused(str(refused), "request_id") from refused


def _reopen_request(session: Session, actor: Actor, request_id: int, reason: str,
                    now: datetime) -> None:
    """The request of a cancelled booking goes where the rules place it now (appointable, or
    waiting if its facts changed since it was booked), never straight back to appointable."""
    request = session.get(Request, request_id)
    assert request is not None
    try:
        reopen_request(session, request, actor, reason, now.astimezone(LONDON).date())
    except RequestChangeRefused as refused:
        raise ChangeRefused(str(refused), "request_id") from refused


def _snapshot(appointment: Appointment) -> dict[str, Any]:
    return {"state": appointment.state.value, "slot_id": appointment.slot_id,
            "held_until": appointment.held_until.isoformat() if appointment.held_until else None}


def _audit(session: Session, actor: Actor, appointment: Appointment, action: str,
           before: dict[str, Any] | None, *, reason: str | None = None,
           overrides: Sequence[Override] = ()) -> None:
    after = _snapshot(appointment) | {"request_id": appointment.request_id}
    if overrides:
        after["overrides"] = [{"rule_id": o.rule_id, "role": str(o.role), "by": o.by,
                               "reason": o.reason} for o in overrides]
    record_audit(session, actor, action, "appointment", appointment.id or 0, before=before,
                 after=after, reason=reason)
