"""Managing a booking: see it, cancel it with a reason after a confirmation step, and join,
change or leave the short-notice list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.appointments.journey import cancel_booking
from booking_api.outbox.read_models import cancelled_booking_calendar, message_reach
from booking_api.short_notice import flows as short_notice
from booking_api.short_notice.services import ShortNoticeWish
from patient_portal.forms import (
    CANCEL_REASONS,
    NOTICE_HOURS,
    PERIODS,
    TRAVEL_MILES,
    WEEKDAYS,
    Cancellation,
    FormData,
    ShortNoticeChoices,
    posted_form,
    read_cancellation,
    read_short_notice,
    text_fields,
)
from patient_portal.once import submit_once
from patient_portal.rendering import KM_PER_MILE, render
from patient_portal.signed_in import PortalPatient, SignedInPatient, journey, now_of
from patient_portal.views.common import (
    booking_of,
    database,
    notice_for_this_page,
    page_values,
    see_other,
    tell_next_page,
)

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]


@router.get("/appointment", response_class=HTMLResponse)
def appointment(request: Request, patient: SignedInPatient) -> Response:
    booking = booking_of(request, patient)
    on_list = short_notice.wish_of(database(request), patient.request_id, patient.patient_id)
    if booking.appointment is None:
        return see_other("/your-test")
    journey(request).clear()
    return render(request, "portal/appointment.jinja", {
        **page_values(booking), "on_short_notice": on_list is not None,
        "notice": notice_for_this_page(request)})


@router.get("/cancel", response_class=HTMLResponse)
def cancel_page(request: Request, patient: SignedInPatient) -> Response:
    return _cancel_form(request, patient, {}, {})


@router.post("/cancel", response_class=HTMLResponse)
def cancel(request: Request, patient: SignedInPatient, form: Form) -> Response:
    return submit_once(request, patient, text_fields(form), success="/cancelled",
                       action=lambda: _cancel(request, patient, form))


@router.get("/cancelled", response_class=HTMLResponse)
def cancelled(request: Request, patient: SignedInPatient) -> Response:
    has_file = _cancelling_calendar(request, patient) is not None
    return render(request, "portal/cancelled.jinja", {"calendar_file": has_file})


@router.get("/cancelled-appointment.ics")
def cancelled_calendar(request: Request, patient: SignedInPatient) -> Response:
    """The calendar file that removes the cancelled appointment from the patient's calendar."""
    body = _cancelling_calendar(request, patient)
    if body is None:
        return see_other("/your-test")
    return Response(body, media_type="text/calendar; charset=utf-8; method=CANCEL", headers={
        "Content-Disposition": 'attachment; filename="imaging-appointment-cancelled.ics"'})


def _cancelling_calendar(request: Request, patient: PortalPatient) -> bytes | None:
    return cancelled_booking_calendar(database(request), request.app.state.settings,
                                      patient.patient_id, patient.request_id, now_of(request))


@router.get("/short-notice", response_class=HTMLResponse)
def short_notice_page(request: Request, patient: SignedInPatient) -> Response:
    wish = short_notice.wish_of(database(request), patient.request_id, patient.patient_id)
    return _short_notice_form(request, patient, _answers_of(wish), {})


@router.post("/short-notice", response_class=HTMLResponse)
def join(request: Request, patient: SignedInPatient, form: Form) -> Response:
    return submit_once(request, patient, text_fields(form), success=_after_list(request, patient),
                       action=lambda: _join(request, patient, form))


@router.post("/short-notice/leave")
def leave(request: Request, patient: SignedInPatient, form: Form) -> Response:
    return submit_once(request, patient, text_fields(form), success=_after_list(request, patient),
                       action=lambda: _leave(request, patient))


def _cancel(request: Request, patient: PortalPatient, form: FormData) -> Response:
    answer = read_cancellation(form)
    if not isinstance(answer, Cancellation):
        return _cancel_form(request, patient, text_fields(form), answer)
    booking = booking_of(request, patient)
    if booking.appointment is None:
        return see_other("/your-test")
    cancel_booking(database(request), patient.principal.actor, patient.patient_id,
                   booking.appointment.appointment_id, answer.reason, now=now_of(request))
    journey(request).clear()
    return see_other("/cancelled")


def _cancel_form(request: Request, patient: PortalPatient, values: dict[str, str],
                 errors: dict[str, str]) -> Response:
    booking = booking_of(request, patient)
    if booking.appointment is None:
        return see_other("/your-test")
    return render(request, "portal/cancel.jinja", {
        **page_values(booking), "reasons": CANCEL_REASONS, "values": values}, errors=errors)


def _join(request: Request, patient: PortalPatient, form: FormData) -> Response:
    answer = read_short_notice(form)
    if not isinstance(answer, ShortNoticeChoices):
        chosen = {"days": _listed(form, "days"), "periods": _listed(form, "periods"),
                  "max-miles": text_fields(form).get("max-miles", ""),
                  "notice-hours": text_fields(form).get("notice-hours", "")}
        return _short_notice_form(request, patient, chosen, answer)
    wish = ShortNoticeWish(frozenset(answer.days), frozenset(answer.periods),
                           round(answer.max_miles * KM_PER_MILE, 1), answer.notice_hours)
    short_notice.join(database(request), patient.principal.actor, patient.request_id, wish,
                      now=now_of(request), patient_id=patient.patient_id)
    reach = message_reach(database(request), request.app.state.settings, patient.patient_id)
    tell_next_page(request, f"You are on the short-notice list. We will text you at "
                            f"{reach.mobile} if an earlier time comes up that suits you."
                   if reach.offers_by_text else
                   "You are on the short-notice list. We offer earlier times by text "
                   "message, so we cannot offer you one until we have a mobile number we "
                   "can text.")
    return see_other(_after_list(request, patient))


def _leave(request: Request, patient: PortalPatient) -> Response:
    short_notice.leave(database(request), patient.principal.actor, patient.request_id,
                       now=now_of(request), patient_id=patient.patient_id)
    tell_next_page(request, "You have left the short-notice list.")
    return see_other(_after_list(request, patient))


def _after_list(request: Request, patient: PortalPatient) -> str:
    """Where joining or leaving the list leads: the appointment if booked, else the list."""
    booked = booking_of(request, patient).appointment is not None
    return "/appointment" if booked else "/short-notice"


def _short_notice_form(request: Request, patient: PortalPatient, chosen: dict[str, Any],
                       errors: dict[str, str]) -> Response:
    on_list = short_notice.wish_of(database(request), patient.request_id, patient.patient_id)
    has_booking = booking_of(request, patient).appointment is not None
    reach = message_reach(database(request), request.app.state.settings, patient.patient_id)
    return render(request, "portal/short_notice.jinja", {
        "on_list": on_list is not None, "has_booking": has_booking, "reach": reach,
        "notice": notice_for_this_page(request),
        "day_items": _items(WEEKDAYS, chosen.get("days", ())),
        "period_items": _items(PERIODS, chosen.get("periods", ())),
        "travel_items": _items(TRAVEL_MILES, (chosen.get("max-miles"),)),
        "notice_items": _items(NOTICE_HOURS, (chosen.get("notice-hours"),))}, errors=errors)


def _answers_of(wish: ShortNoticeWish | None) -> dict[str, Any]:
    if wish is None:
        return {}
    miles = min(TRAVEL_MILES, key=lambda o: abs(int(o[0]) * KM_PER_MILE - wish.max_km))[0]
    return {"days": tuple(wish.days), "periods": tuple(wish.periods), "max-miles": miles,
            "notice-hours": str(wish.notice_hours)}


def _items(options: tuple[tuple[str, str], ...], chosen: Any) -> list[dict[str, Any]]:
    return [{"value": code, "text": label, "checked": code in chosen}
            for code, label in options]


def _listed(form: FormData, field: str) -> tuple[str, ...]:
    value = form.get(field, ())
    return (value,) if isinstance(value, str) else tuple(value)
