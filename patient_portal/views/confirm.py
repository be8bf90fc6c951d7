"""Checking and confirming: the chosen time with the hold's time left (extendable once,
WCAG 2.2.1), booking the hold or moving the booking atomically, the confirmation panel and
the calendar file. A time taken or a hold run out meanwhile sends the patient back to the
times with a plain message and the nearest other times."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.appointments import flows, services
from booking_api.appointments.errors import BookingError, ChangeRefused, HoldExpired, SlotTaken
from booking_api.appointments.services import appointments_of_patient
from booking_api.network.directory import sites_by_id
from domain.lifecycle import AppointmentState
from patient_portal.calendar_file import appointment_calendar
from patient_portal.forms import FormData, posted_form, text_fields
from patient_portal.once import submit_once
from patient_portal.rendering import render
from patient_portal.signed_in import PortalPatient, journey, now_of
from patient_portal.views.common import (
    BookablePatient,
    Booking,
    booking_of,
    notice_for_this_page,
    patient_actor,
    reading,
    see_other,
    tell_next_page,
    writing,
)

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]
RESCHEDULE_REASON = "patient chose a new time online"


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, patient: BookablePatient) -> Response:
    state = journey(request)
    with reading(request) as session:
        booking = booking_of(session, patient)
        chosen = _chosen(session, patient, state, now_of(request))
        if chosen is None:
            return _hold_gone(request, state)
        site = sites_by_id(session, [state["site"]])[state["site"]]
    context: dict[str, Any] = {"exam": booking.exam, "site": site, "start": chosen["start"],
                               "rescheduling": bool(state.get("reschedule")),
                               "old_start": booking.start,
                               "notice": notice_for_this_page(request)}
    if chosen.get("held_until"):
        left = (chosen["held_until"] - now_of(request)).total_seconds() / 60
        context.update(hold_until=chosen["held_until"], minutes_left=max(1, math.ceil(left)),
                       can_extend=not chosen["extended"])
    return render(request, "portal/check.jinja", context)


@router.post("/hold/extend")
def extend(request: Request, patient: BookablePatient, form: Form) -> Response:
    return submit_once(request, patient_actor(patient), text_fields(form),
                       lambda: _extend(request, patient))


@router.post("/check")
def confirm(request: Request, patient: BookablePatient, form: Form) -> Response:
    return submit_once(request, patient_actor(patient), text_fields(form),
                       lambda: _confirm(request, patient))


@router.get("/confirmation", response_class=HTMLResponse)
def confirmation(request: Request, patient: BookablePatient) -> Response:
    with reading(request) as session:
        booking = booking_of(session, patient)
    if booking.appointment is None:
        return see_other("/your-test")
    changed = bool(journey(request).get("changed"))
    return render(request, "portal/confirmation.jinja",
                  {**booking.page_values(), "changed": changed})


@router.get("/appointment.ics")
def calendar(request: Request, patient: BookablePatient) -> Response:
    with reading(request) as session:
        booking = booking_of(session, patient)
        sequence = _changes_before(session, patient, booking)
    if booking.appointment is None or booking.site is None:
        return see_other("/your-test")
    appointment = booking.appointment
    body = appointment_calendar(
        request_id=booking.request.id or 0, sequence=sequence,
        reference=booking.request.booking_reference, start=appointment.start_at,
        end=appointment.end_at, exam=booking.exam, site=booking.site,
        host=urlsplit(request.app.state.settings.public_base_url).hostname or "localhost",
        stamp=now_of(request))
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="imaging-appointment.ics"'})


def _extend(request: Request, patient: PortalPatient) -> Response:
    hold_id = journey(request).get("hold")
    if not hold_id:
        return see_other("/time")
    with writing(request) as session:
        try:
            services.extend_hold(session, patient.principal.actor, hold_id, now=now_of(request),
                                 hold_minutes=request.app.state.settings.hold_minutes,
                                 patient_id=patient.patient_id)
        except HoldExpired:
            session.rollback()
            return _hold_gone(request, journey(request))
        except ChangeRefused:
            session.rollback()
            tell_next_page(request, "You have already had extra time once. Confirm the "
                                    "appointment now, or choose another time.")
            return see_other("/check")
        session.commit()
    minutes = request.app.state.settings.hold_minutes
    tell_next_page(request, f"We will hold this time for another {minutes} minutes.")
    return see_other("/check")


def _confirm(request: Request, patient: PortalPatient) -> Response:
    state = journey(request)
    actor, now = patient.principal.actor, now_of(request)
    with writing(request) as session:
        try:
            if state.get("reschedule"):
                slot = state.get("slot") or {}
                flows.reschedule(session, actor, state["reschedule"], int(slot.get("id", 0)),
                                 reason=RESCHEDULE_REASON, now=now,
                                 patient_id=patient.patient_id)
            else:
                services.book_hold(session, actor, int(state.get("hold") or 0), now=now,
                                   patient_id=patient.patient_id)
        except SlotTaken:
            session.rollback()
            state["taken"] = (state.get("slot") or {}).get("start")
            return see_other("/time")
        except BookingError:
            session.rollback()
            return _hold_gone(request, state)
        session.commit()
    changed = bool(state.get("reschedule"))
    state.clear()
    state["changed"] = changed
    return see_other("/confirmation")


def _chosen(session: Any, patient: PortalPatient, state: dict[str, Any],
            now: datetime) -> dict[str, Any] | None:
    """The time being confirmed: the chosen slot (changing) or the live hold (booking)."""
    if state.get("reschedule"):
        slot = state.get("slot")
        return {"start": datetime.fromisoformat(slot["start"])} if slot else None
    if not state.get("hold") or not state.get("site"):
        return None
    try:
        hold = services.get_appointment(session, state["hold"], patient.patient_id)
    except BookingError:
        return None
    if hold.state is not AppointmentState.HELD or hold.held_until is None \
            or hold.held_until <= now:
        return None
    return {"start": hold.start_at, "held_until": hold.held_until,
            "extended": hold.hold_extended}


def _hold_gone(request: Request, state: dict[str, Any]) -> Response:
    """Back to the times, saying the hold ran out (the time itself may still be free)."""
    hold_id = state.get("hold")
    if not hold_id:
        return see_other("/time")
    with reading(request) as session:
        try:
            start = services.get_appointment(session, hold_id).start_at
        except BookingError:
            return see_other("/time")
    state.update(taken=start.isoformat(), expired=True, hold=None)
    return see_other("/time")


def _changes_before(session: Any, patient: PortalPatient, booking: Booking) -> int:
    """How many bookings of this request came before this one (the event's SEQUENCE)."""
    if booking.appointment is None:
        return 0
    return sum(1 for a in appointments_of_patient(session, patient.patient_id)
               if a.request_id == patient.request_id and a.booked_at is not None
               and a.id != booking.appointment.id
               and a.created_at <= booking.appointment.created_at + timedelta(0))
