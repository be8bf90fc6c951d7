"""Appointment routes: hold, extend, book, cancel, reschedule, outcomes, staff booking with
overrides, and reading appointments. Patients act on their own requests and appointments
only (anything else is 404, so existence does not leak); staff by role. Every POST needs an
Idempotency-Key (IdempotentRoute); a refusal is answered (and kept for replay) as JSON with
the reason and the field at fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from booking_api.access.deps import (
    AdminOnly,
    ClerkOrAbove,
    IdempotentRoute,
    SignedIn,
    actor_and_patient,
    reader_of,
    require_roles,
)
from booking_api.access.models import AccountRole
from booking_api.access.principals import PatientPrincipal, StaffPrincipal
from booking_api.api.deps import MAX_ID, ReadSessionDep, SessionDep, SettingsDep, now_of
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.appointments import flows, services
from booking_api.appointments.models import Appointment, AppointmentPublic
from booking_api.appointments.taking import SITES_OF_MARKED_SLOTS, conflict_refusal
from booking_api.core.db import CONFLICT_SQLSTATES
from booking_api.core.errors import BookingError, InvalidInput
from booking_api.core.inputs import PlainText, SafeText, StrictId
from booking_api.idempotency.route import keep_with_commit
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState

router = APIRouter(prefix="/api/appointments", tags=["appointments"],
                   route_class=IdempotentRoute, responses=ERROR_RESPONSES)
staff_router = APIRouter(prefix="/api/staff/bookings", tags=["appointments"],
                         route_class=IdempotentRoute, responses=ERROR_RESPONSES)
holds_router = APIRouter(prefix="/api/holds", tags=["slots"], route_class=IdempotentRoute)

BookingStaff = Annotated[StaffPrincipal, Depends(require_roles(
    AccountRole.CLERK, AccountRole.VETTING, AccountRole.MANAGER, AccountRole.ADMIN))]
Outcome = AppointmentPublic | JSONResponse
AppointmentId = Annotated[int, Path(ge=1, le=MAX_ID)]


class SlotChoice(BaseModel):
    request_id: StrictId
    slot_id: StrictId


class Reason(BaseModel):
    reason: SafeText = Field(min_length=1, max_length=2000)


OVERLAP_REASON = ("staff only: why the patient should have this time although it clashes "
                  "with another of their appointments (recorded and audited)")


class RescheduleIn(BaseModel):
    slot_id: StrictId
    reason: SafeText = Field(min_length=1, max_length=2000)
    overlap_reason: SafeText | None = Field(default=None, min_length=1, max_length=2000,
                                            description=OVERLAP_REASON)


class OverrideIn(BaseModel):
    rule_id: PlainText = Field(min_length=1, max_length=100)
    reason: SafeText = Field(min_length=1, max_length=2000)


class StaffBookingIn(SlotChoice):
    reason: SafeText = Field(min_length=1, max_length=2000)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=20)
    overlap_reason: SafeText | None = Field(default=None, min_length=1, max_length=2000,
                                            description=OVERLAP_REASON)


@router.post("/holds", status_code=201, response_model=AppointmentPublic)
def hold(choice: SlotChoice, who: SignedIn, session: SessionDep, settings: SettingsDep,
         request: Request) -> Outcome:
    """Hold a slot for a few minutes (settings: hold_minutes) while the patient confirms."""
    actor, patient_id = actor_and_patient(who)
    return commit(session, lambda: services.hold_slot(
        session, actor, choice.request_id, choice.slot_id, now=now_of(request),
        hold_minutes=settings.hold_minutes, patient_id=patient_id), status=201)


@router.post("", status_code=201, response_model=AppointmentPublic)
def book(choice: SlotChoice, who: SignedIn, session: SessionDep, request: Request) -> Outcome:
    """Book a slot directly, without holding it first."""
    actor, patient_id = actor_and_patient(who)
    return commit(session, lambda: services.book_slot(
        session, actor, choice.request_id, choice.slot_id, now=now_of(request),
        patient_id=patient_id), status=201)


@router.post("/{appointment_id}/extend", response_model=AppointmentPublic)
def extend(appointment_id: AppointmentId, who: SignedIn, session: SessionDep, settings: SettingsDep,
           request: Request) -> Outcome:
    """Add the hold length to a live hold's time left (up to ten times)."""
    actor, patient_id = actor_and_patient(who)
    return commit(session, lambda: services.extend_hold(
        session, actor, appointment_id, now=now_of(request),
        hold_minutes=settings.hold_minutes, patient_id=patient_id))


@router.post("/{appointment_id}/book", response_model=AppointmentPublic)
def book_hold(appointment_id: AppointmentId, who: SignedIn, session: SessionDep,
              request: Request) -> Outcome:
    """Confirm a live hold as a booking."""
    actor, patient_id = actor_and_patient(who)
    return commit(session, lambda: services.book_hold(
        session, actor, appointment_id, now=now_of(request), patient_id=patient_id))


@router.post("/{appointment_id}/cancel", response_model=AppointmentPublic)
def cancel(appointment_id: AppointmentId, body: Reason, who: SignedIn, session: SessionDep,
           request: Request) -> Outcome:
    """Cancel a hold or booking; the slot is free again at once."""
    actor, patient_id = actor_and_patient(who)
    return commit(session, lambda: services.cancel_appointment(
        session, actor, appointment_id, body.reason, now=now_of(request),
        patient_id=patient_id))


@router.post("/{appointment_id}/reschedule", status_code=201,
             response_model=AppointmentPublic)
def reschedule(appointment_id: AppointmentId, body: RescheduleIn, who: SignedIn,
               session: SessionDep, request: Request) -> Outcome:
    """Move a booking to another slot: the new booking is returned, the old one cancelled."""
    actor, patient_id = actor_and_patient(who)
    return commit(session, lambda: flows.reschedule(
        session, actor, appointment_id, body.slot_id, reason=body.reason,
        now=now_of(request), patient_id=patient_id, overlap_reason=body.overlap_reason),
        status=201)


@router.post("/{appointment_id}/attended", response_model=AppointmentPublic)
def attended(appointment_id: AppointmentId, staff: ClerkOrAbove, session: SessionDep,
             request: Request) -> Outcome:
    """Record that the patient came (staff)."""
    return commit(session, lambda: services.record_outcome(
        session, staff.actor, appointment_id, AppointmentState.ATTENDED, now=now_of(request)))


@router.post("/{appointment_id}/dna", response_model=AppointmentPublic)
def did_not_attend(appointment_id: AppointmentId, staff: ClerkOrAbove, session: SessionDep,
                   request: Request) -> Outcome:
    """Record that the patient did not attend (staff)."""
    return commit(session, lambda: services.record_outcome(
        session, staff.actor, appointment_id, AppointmentState.DNA, now=now_of(request)))


@router.get("/{appointment_id}", response_model=AppointmentPublic)
def read_one(appointment_id: AppointmentId, who: SignedIn, session: ReadSessionDep,
             request: Request) -> Outcome:
    """One appointment (a patient sees only their own; staff reads are logged)."""
    _actor, patient_id = actor_and_patient(who)
    try:
        return public(session, services.get_appointment(session, appointment_id, patient_id,
                                                        reader_of(who, request)))
    except BookingError as error:
        return booking_error_response(error)


@router.get("", response_model=list[AppointmentPublic])
def read_many(who: SignedIn, session: ReadSessionDep, request: Request,
              patient_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
              ) -> list[AppointmentPublic] | JSONResponse:
    """A patient's appointments: your own, or (staff, logged) those of `patient_id`."""
    if isinstance(who, PatientPrincipal):
        patient_id = who.patient_id
    elif patient_id is None:
        return booking_error_response(InvalidInput("patient_id is required for staff",
                                                   "patient_id"))
    return [public(session, a) for a in services.appointments_of_patient(
        session, patient_id, reader_of(who, request))]


@staff_router.post("", status_code=201, response_model=AppointmentPublic)
def book_on_behalf(body: StaffBookingIn, staff: BookingStaff, session: SessionDep,
                   request: Request) -> Outcome:
    """Book for a patient, optionally setting slot rules aside (each override with a reason);
    the reason and overrides are audited."""
    overrides = [flows.RuleOverride(o.rule_id, o.reason) for o in body.overrides]
    return commit(session, lambda: flows.book_on_behalf(
        session, staff.actor, body.request_id, body.slot_id, reason=body.reason,
        overrides=overrides, overlap_reason=body.overlap_reason, now=now_of(request)),
        status=201)


class SweepResult(BaseModel):
    expired_holds: int


@holds_router.post("/sweep", response_model=SweepResult)
def sweep_holds(admin: AdminOnly, session: SessionDep, request: Request) -> SweepResult:
    """Expire every hold whose time has run out (administrators; the booking path also
    expires stale holds on the time it wants, and each server sweeps every
    `CDIP_HOLD_SWEEP_SECONDS`)."""
    expired = services.sweep_expired_holds(session, now_of(request), admin.actor)
    session.commit()
    return SweepResult(expired_holds=expired)


def commit(session: Session, operation: Callable[[], Appointment], status: int = 200
           ) -> Outcome:
    """Run one service operation and commit, the response kept for the idempotency key in
    the same transaction; a refusal rolls back and is answered as JSON."""
    try:
        answer = public(session, operation())
        response = JSONResponse(answer.model_dump(mode="json"), status_code=status)
        keep_with_commit(response)
        session.commit()  # nothing touches the database after this (SQLite's write lock)
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    except DBAPIError as error:
        session.rollback()
        if getattr(error.orig, "sqlstate", None) not in CONFLICT_SQLSTATES:
            raise
        return booking_error_response(conflict_refusal(error))
    except BaseException:
        session.rollback()  # release SQLite's write lock before anyone else needs it
        raise
    return response


def public(session: Session, appointment: Appointment) -> AppointmentPublic:
    """The appointment as the API shows it, with its site (known when this session has just
    taken or released its slot; else one small query)."""
    site_id = session.info.get(SITES_OF_MARKED_SLOTS, {}).get(appointment.slot_id)
    if site_id is None:
        site_id = session.connection().scalar(_SITE_OF_SLOT, {"slot_id": appointment.slot_id})
    return AppointmentPublic.of(appointment, site_id)


_SITE_OF_SLOT = select(Slot.site_id).where(Slot.id == bindparam("slot_id"))
"""Only the site id (a Core read: loading the whole slot again costs more than the query)."""
