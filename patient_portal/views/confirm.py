"""Checking and confirming: the chosen time with the hold's time left (extendable ten
times, WCAG 2.2.1), booking the hold or moving the booking atomically, the confirmation panel and
the calendar file. A time taken or a hold run out meanwhile sends the patient back to the
times with a plain message and the nearest other times."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.appointments import journey as steps
from booking_api.appointments.read_models import appointment_start, live_hold
from booking_api.core.errors import (
    BookingError,
    ChangeRefused,
    HoldExpired,
    PatientBusy,
    SlotTaken,
)
from booking_api.outbox.read_models import (
    appointment_messages,
    booking_calendar,
    message_reach,
)
from booking_api.search.offers import site_details
from patient_portal.forms import FormData, posted_form, text_fields
from patient_portal.once import submit_once
from patient_portal.rendering import render
from patient_portal.signed_in import PortalPatient, journey, now_of
from patient_portal.views.common import (
    BookablePatient,
    booking_of,
    database,
    notice_for_this_page,
    page_values,
    see_other,
    tell_next_page,
)
from patient_portal.views.journey import clashing_time

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]
RESCHEDULE_REASON = "patient chose a new time online"


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, patient: BookablePatient) -> Response:
    state = journey(request)
    booking = booking_of(request, patient)
    chosen = _chosen(request, patient, state)
    if chosen is None:
        return _hold_gone(request, patient, state)
    site = site_details(database(request), state["site"])
    context: dict[str, Any] = {"exam": booking.exam, "site": site, "start": chosen["start"],
                               "rescheduling": bool(state.get("reschedule")),
                               "old_start": booking.start,
                               "notice": notice_for_this_page(request)}
    if chosen.get("held_until"):
        left = (chosen["held_until"] - now_of(request)).total_seconds() / 60
        context.update(hold_until=chosen["held_until"], minutes_left=max(1, math.ceil(left)),
                       can_extend=chosen["can_extend"],
                       most_extensions=steps.HOLD_EXTENSIONS_ALLOWED)
    return render(request, "portal/check.jinja", context)


@router.post("/hold/extend")
def extend(request: Request, patient: BookablePatient, form: Form) -> Response:
    return submit_once(request, patient, text_fields(form), success="/check",
                       action=lambda: _extend(request, patient))


@router.post("/check")
def confirm(request: Request, patient: BookablePatient, form: Form) -> Response:
    return submit_once(request, patient, text_fields(form), success="/confirmation",
                       action=lambda: _confirm(request, patient))


@router.get("/confirmation", response_class=HTMLResponse)
def confirmation(request: Request, patient: BookablePatient) -> Response:
    booking = booking_of(request, patient)
    if booking.appointment is None:
        return see_other("/your-test")
    changed = bool(journey(request).get("changed"))
    messages = appointment_messages(database(request), patient.patient_id,
                                    booking.appointment.appointment_id)
    reach = message_reach(database(request), request.app.state.settings, patient.patient_id)
    return render(request, "portal/confirmation.jinja",
                  {**page_values(booking), "changed": changed, "messages": messages,
                   "reach": reach})


@router.get("/appointment.ics")
def calendar(request: Request, patient: BookablePatient) -> Response:
    booking = booking_of(request, patient)
    body = booking_calendar(database(request), request.app.state.settings,
                            patient.patient_id, booking.request_id, now_of(request))
    if body is None:
        return see_other("/your-test")
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="imaging-appointment.ics"'})


def _extend(request: Request, patient: PortalPatient) -> Response:
    hold_id = journey(request).get("hold")
    if not hold_id:
        return see_other("/time")
    try:
        steps.extend_held_time(database(request), patient.principal.actor, patient.patient_id,
                               hold_id, now=now_of(request),
                               hold_minutes=request.app.state.settings.hold_minutes)
    except HoldExpired:
        return _hold_gone(request, patient, journey(request))
    except ChangeRefused:
        tell_next_page(request, f"You have already had extra time "
                                f"{steps.HOLD_EXTENSIONS_ALLOWED} times, the most we can give. "
                                "Confirm the appointment now, or choose another time.")
        return see_other("/check")
    minutes = request.app.state.settings.hold_minutes
    tell_next_page(request, f"We have added {minutes} minutes to the time we hold this for "
                            "you.")
    return see_other("/check")


def _confirm(request: Request, patient: PortalPatient) -> Response:
    state = journey(request)
    db, actor, now = database(request), patient.principal.actor, now_of(request)
    try:
        if state.get("reschedule") and state.get("hold"):
            steps.move_to_held_time(db, actor, patient.patient_id, state["reschedule"],
                                    int(state["hold"]), reason=RESCHEDULE_REASON, now=now)
        elif state.get("reschedule"):
            slot = state.get("slot") or {}
            steps.move_booking(db, actor, patient.patient_id, state["reschedule"],
                               int(slot.get("id", 0)), reason=RESCHEDULE_REASON, now=now)
        else:
            steps.book_held_time(db, actor, patient.patient_id, int(state.get("hold") or 0),
                                 now=now)
    except SlotTaken:
        state["taken"] = (state.get("slot") or {}).get("start")
        return see_other("/time")
    except PatientBusy as busy:
        start = (state.get("slot") or {}).get("start")
        return clashing_time(state, datetime.fromisoformat(start), busy) if start \
            else see_other("/time")
    except BookingError:
        return _hold_gone(request, patient, state)
    changed = bool(state.get("reschedule"))
    state.clear()
    state["changed"] = changed
    return see_other("/confirmation")


def _chosen(request: Request, patient: PortalPatient,
            state: dict[str, Any]) -> dict[str, Any] | None:
    """The time being confirmed: the live hold, or the chosen slot when a change could not
    hold its new time (it overlaps the booking being changed)."""
    if state.get("reschedule") and not state.get("hold"):
        slot = state.get("slot")
        return {"start": datetime.fromisoformat(slot["start"])} if slot else None
    if not state.get("hold") or not state.get("site"):
        return None
    minutes = request.app.state.settings.hold_minutes
    hold = live_hold(database(request), patient.patient_id, state["hold"], now_of(request),
                     minutes)
    if hold is None:
        return None
    return {"start": hold.start_at, "held_until": hold.held_until,
            "can_extend": hold.can_extend(minutes)}


def _hold_gone(request: Request, patient: PortalPatient, state: dict[str, Any]) -> Response:
    """Back to the times, saying the hold ran out (the time itself may still be free)."""
    hold_id = state.get("hold")
    if not hold_id:
        return see_other("/time")
    start = appointment_start(database(request), hold_id, patient.patient_id)
    if start is None:
        return see_other("/time")
    state.update(taken=start.isoformat(), expired=True, hold=None)
    return see_other("/time")
