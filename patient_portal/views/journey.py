"""Choosing a place and time: the test and how to prepare, how to compare sites, the sites,
a date (about ten a page, then later dates), and a time. Picking a time holds it, for a new
booking and for a change alike; when changing, the old booking stays until the change is
confirmed."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.appointments.journey import hold_new_time, hold_time
from booking_api.core.errors import BookingError, PatientBusy
from booking_api.core.inputs import date_problem
from booking_api.search.offers import site_details
from booking_api.search.services import SlotOffer
from patient_portal.forms import FormData, posted_form, read_choice, text_fields
from patient_portal.offers import nearest_times, one_per_time, parts_of_day, same_time
from patient_portal.once import submit_once
from patient_portal.rendering import clock, long_date, render
from patient_portal.signed_in import PortalPatient, journey, now_of
from patient_portal.views.common import (
    BookablePatient,
    booking_of,
    database,
    notice_for_this_page,
    searcher,
    see_other,
)

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]
ORDER_HINTS = {"soonest": "Listed by the earliest free date, then by distance from your home "
                           "area.",
               "nearest": "Listed by distance from your home area, nearest first.",
               "site": "Listed by name."}
SITES_FIRST_SHOWN = 10
"""Sites on the first view of a long list; the rest are one link away."""
SITES_NOT_WORTH_HIDING = 5
"""A list only this much longer is shown whole."""
SEARCH_MAX = 60
SEARCHABLE_TEXT = re.compile(r"[\w\s'’.,&()-]+")
"""What a site name, town or postcode can contain."""


@router.get("/change")
def change(request: Request, patient: BookablePatient) -> Response:
    """Start changing a booked appointment (the same steps as booking)."""
    booking = booking_of(request, patient)
    if booking.appointment is None:
        return see_other("/your-test")
    journey(request).clear()
    journey(request)["reschedule"] = booking.appointment.appointment_id
    return see_other("/your-test")


@router.get("/your-test", response_class=HTMLResponse)
def your_test(request: Request, patient: BookablePatient) -> Response:
    booking = booking_of(request, patient)
    rescheduling = bool(journey(request).get("reschedule"))
    if booking.appointment and not rescheduling:
        return see_other("/appointment")
    return render(request, "portal/your_test.jinja", {
        "exam": booking.exam, "rescheduling": rescheduling,
        "notice": notice_for_this_page(request)})


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, _patient: BookablePatient) -> Response:
    return render(request, "portal/compare.jinja", {"chosen": journey(request).get("compare")})


@router.post("/compare", response_class=HTMLResponse)
def compare(request: Request, _patient: BookablePatient, form: Form) -> Response:
    chosen = read_choice(form, "compare", ORDER_HINTS, "Select how you want to choose a site")
    if isinstance(chosen, dict):
        return render(request, "portal/compare.jinja", {"chosen": None}, errors=chosen)
    journey(request)["compare"] = chosen
    return see_other("/site")


@router.get("/site", response_class=HTMLResponse)
def site_page(request: Request, patient: BookablePatient) -> Response:
    return _sites(request, patient, {})


@router.post("/site", response_class=HTMLResponse)
def choose_site(request: Request, patient: BookablePatient, form: Form) -> Response:
    offered = {c.details.site_id for c in searcher(request, patient).sites(_compare(request))}
    chosen = read_choice(form, "site", offered, "Select where you want to have your test")
    if isinstance(chosen, dict):
        return _sites(request, patient, chosen)
    journey(request).update(site=chosen, date=None)
    return see_other("/date")


@router.get("/date", response_class=HTMLResponse)
def date_page(request: Request, patient: BookablePatient) -> Response:
    """Ten dates from the earliest, or from `?from=` (a date, not personal) for later ones."""
    return _dates(request, patient, _later_start(request), {})


@router.post("/date", response_class=HTMLResponse)
def choose_date(request: Request, patient: BookablePatient, form: Form) -> Response:
    site_id = journey(request).get("site")
    if not site_id:
        return see_other("/site")
    value = form.get("date") if isinstance(form.get("date"), str) else ""
    day = _parse_date(str(value))
    free = day is not None and bool(searcher(request, patient).times(site_id, day))
    if not free or day is None:
        return _dates(request, patient, _later_start(request),
                      {"date": "Select a date for your appointment"})
    journey(request).update(date=day.isoformat(), taken=None, clash=None)
    return see_other("/time")


@router.get("/time", response_class=HTMLResponse)
def time_page(request: Request, patient: BookablePatient) -> Response:
    return _times(request, patient, {}, show_all=request.query_params.get("all") == "1")


@router.post("/time", response_class=HTMLResponse)
def choose_time(request: Request, patient: BookablePatient, form: Form) -> Response:
    return submit_once(request, patient, text_fields(form), success="/check",
                       action=lambda: _take_time(request, patient, form))


def _take_time(request: Request, patient: PortalPatient, form: FormData) -> Response:
    state = journey(request)
    if not state.get("site") or not state.get("date"):
        return see_other("/date")
    offers = searcher(request, patient).times(state["site"], date.fromisoformat(state["date"]))
    by_id = {str(o.slot_id): o for o in offers}
    shown = state.get("shown") or {}
    picked = form.get("time")
    if isinstance(picked, str) and picked in shown and picked not in by_id:
        state.update(taken=shown[picked], expired=False)  # gone since the page was shown
        return see_other("/time")
    chosen = read_choice(form, "time", by_id, "Select a time for your appointment")
    if isinstance(chosen, dict):
        return _times(request, patient, chosen, show_all=True)
    offer = by_id[chosen]
    state.update(taken=None, expired=False, clash=None)
    if state.get("reschedule"):
        state["slot"] = {"id": offer.slot_id, "start": offer.start_at.isoformat()}
        if _overlaps_current_booking(request, patient, offer):
            state["hold"] = None  # a hold cannot sit on the booking's own time: moved unheld
            return see_other("/check")
    for candidate in same_time(offers, offer):
        try:
            state["hold"] = _hold(request, patient, state, candidate.slot_id)
        except PatientBusy as busy:
            return clashing_time(state, offer.start_at, busy)
        except BookingError:
            continue
        state["slot"] = {"id": candidate.slot_id, "start": offer.start_at.isoformat()}
        return see_other("/check")
    state["taken"] = offer.start_at.isoformat()
    return see_other("/time")


def _hold(request: Request, patient: PortalPatient, state: dict[str, Any],
          slot_id: int) -> int:
    """Hold the time: for a new booking, or beside the booking being changed."""
    db, actor, now = database(request), patient.principal.actor, now_of(request)
    minutes = request.app.state.settings.hold_minutes
    if state.get("reschedule"):
        return hold_new_time(db, actor, patient.patient_id, state["reschedule"], slot_id,
                             previous_hold=state.get("hold"), now=now, hold_minutes=minutes)
    return hold_time(db, actor, patient.patient_id, patient.request_id, slot_id,
                     previous_hold=state.get("hold"), now=now, hold_minutes=minutes)


def _overlaps_current_booking(request: Request, patient: PortalPatient,
                              offer: SlotOffer) -> bool:
    """Whether the new time would run into the booking being changed (its slots are the
    booking's until the change is confirmed, so that time cannot be held beside it)."""
    booking = booking_of(request, patient)
    if booking.appointment is None:
        return False
    end = offer.start_at + timedelta(minutes=booking.exam.duration_min)
    return offer.start_at < booking.appointment.end_at and end > booking.appointment.start_at


def clashing_time(state: dict[str, Any], chosen: datetime, busy: PatientBusy) -> Response:
    """Back to the times, saying which of the patient's appointments the chosen one clashes
    with (every other room at that time would clash alike)."""
    state.update(taken=chosen.isoformat(), expired=False, clash=clash_message(busy))
    return see_other("/time")


def clash_message(busy: PatientBusy) -> str:
    """The refusal in words for the patient: their other appointment, and what to choose."""
    if not busy.clashes:
        return ("You already have another appointment at about that time. Choose a time "
                "that does not overlap it.")
    other = busy.clashes[0]
    travel = (f" and leaves {other.travel_minutes} minutes to travel between the two places"
              if other.travel_minutes else "")
    return (f"You already have an appointment at {clock(other.start_at)} on "
            f"{long_date(other.start_at)}. Choose a time that does not overlap it{travel}.")


def _compare(request: Request) -> str:
    return journey(request).get("compare") or "soonest"


def _sites(request: Request, patient: PortalPatient, errors: dict[str, str]) -> Response:
    search, problem = _site_search(request)
    if problem:
        errors = {**errors, "site-search": problem}
        search = ""
    sites = searcher(request, patient).sites(_compare(request), search)
    chosen = journey(request).get("site")
    shown = sites
    if request.query_params.get("all") != "1" and not errors and not search \
            and len(sites) > SITES_FIRST_SHOWN + SITES_NOT_WORTH_HIDING:
        shown = sites[:SITES_FIRST_SHOWN]
        shown += [s for s in sites[SITES_FIRST_SHOWN:] if s.details.site_id == chosen]
    return render(request, "portal/sites.jinja", {
        "sites": shown, "chosen": chosen, "order_hint": ORDER_HINTS[_compare(request)],
        "search": search, "search_typed": request.query_params.get("q", "")[:SEARCH_MAX],
        "more_sites": len(sites) if len(shown) < len(sites) else None}, errors=errors)


def _site_search(request: Request) -> tuple[str, str | None]:
    """The words the patient searched the sites for, or the problem with them."""
    words = " ".join(request.query_params.get("q", "").split())
    if len(words) > SEARCH_MAX:
        return "", f"Search must be {SEARCH_MAX} characters or fewer"
    if words and not SEARCHABLE_TEXT.fullmatch(words):
        return "", ("Search must only include letters, numbers, spaces, hyphens and "
                    "apostrophes")
    return words, None


def _dates(request: Request, patient: PortalPatient, start: date | None,
           errors: dict[str, str]) -> Response:
    site_id = journey(request).get("site")
    if not site_id:
        return see_other("/site")
    dates, more = searcher(request, patient).dates(site_id, start)
    site = site_details(database(request), site_id)
    later = dates[-1].toordinal() + 1 if more and dates else None
    return render(request, "portal/dates.jinja", {
        "site": site, "dates": dates, "chosen": journey(request).get("date"),
        "later_from": date.fromordinal(later).isoformat() if later else None,
        "earlier": start is not None}, errors=errors)


def _times(request: Request, patient: PortalPatient, errors: dict[str, str],
           show_all: bool) -> Response:
    state = journey(request)
    if not state.get("site") or not state.get("date"):
        return see_other("/date")
    day = date.fromisoformat(state["date"])
    offers = searcher(request, patient).times(state["site"], day)
    site = site_details(database(request), state["site"])
    context: dict[str, Any] = {"site": site, "day": day, "chosen": None, "taken": False,
                               "hold_hint": _hold_hint(request, state)}
    wanted = state.get("taken")
    if wanted and not errors:
        at = datetime.fromisoformat(wanted)
        errors = {"time": state.get("clash") or _taken_message(at, state.get("expired", False))}
        if not show_all:
            offers = nearest_times(offers, at)
            context["taken"] = True
    if not context["taken"]:
        offers = one_per_time(offers)
    context["time_groups"] = parts_of_day(offers)
    state["shown"] = {str(o.slot_id): o.start_at.isoformat() for o in offers}
    return render(request, "portal/times.jinja", context, errors=errors)


def _taken_message(at: datetime, expired: bool) -> str:
    if expired:
        return (f"We held {clock(at)} on {long_date(at)} for you, but the hold ran out "
                f"before you confirmed. If {clock(at)} is still listed, you can choose it "
                "again.")
    return (f"Sorry, {clock(at)} on {long_date(at)} has just been booked by someone else. "
            "Choose another time.")


def _hold_hint(request: Request, state: dict[str, Any]) -> str:
    minutes = request.app.state.settings.hold_minutes
    if state.get("reschedule"):
        return (f"We will hold the new time you choose for {minutes} minutes while you check "
                "it. Your current appointment stays booked until you confirm the change.")
    return f"We will hold the time you choose for {minutes} minutes while you check it."


def _later_start(request: Request) -> date | None:
    return _parse_date(request.query_params.get("from", ""))


def _parse_date(text: str) -> date | None:
    """The date in a page's query, or None (the first dates) for anything else, a date
    beyond the calendar the service works in included."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return None if date_problem(day) else day

