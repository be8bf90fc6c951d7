"""Booking on a patient's behalf: search every site (soonest, nearest, or one site), hold a
time while the clerk confirms it with the patient, book it with a reason, move a booking,
cancel one with a reason. The same race-free service path as the patient's own booking
(`appointments.taking`); the patient is told through the outbox in the same transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console import slot_overrides, steps
from booking_api.console.diary_view import site_names, slot_line
from booking_api.console.records import request_record
from booking_api.console.search import ClerkSearch, offers_for
from booking_api.core.app_state import settings_of
from booking_api.core.errors import BookingError, NotFound
from pages_common.forms import FormData, ascii_digits, text_of
from pages_common.security import page_session
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, notice_for_this_page, now_of, tell_next_page
from staff_console.views.common import (
    Clerk,
    Form,
    PageNotFound,
    database,
    once,
    reader,
    reason_error,
    see_other,
    today,
)

router = APIRouter(prefix="/staff/requests", include_in_schema=False)
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ORDERS = ("soonest", "nearest", "site")


@router.get("/{request_id}/book", response_class=HTMLResponse)
def search_page(request: Request, request_id: RequestId, staff: Clerk) -> Response:
    query = request.query_params
    order = query.get("order", "soonest")
    site_id = query.get("site") or None
    sites = site_names(database(request))
    errors = {}
    if order not in ORDERS:
        errors["order"] = "Select how to search"
        order = "soonest"
    if order == "site" and site_id not in {s for s, _ in sites}:
        errors["site"] = "Select a site"
    show_refused = query.get("refused") == "yes"
    record = _record(request, staff, request_id)
    offers: list[Any] = []
    refused_times: list[Any] = []
    if not errors:
        search = ClerkSearch(order, site_id)
        try:
            offers = offers_for(database(request), request.app.state.slot_index, request_id,
                                search, now=now_of(request))
            if show_refused:
                refused_times = slot_overrides.refused_times(
                    database(request), request.app.state.slot_index, request_id, search,
                    staff.role, now=now_of(request))
        except BookingError as refused:
            errors["order"] = refused.message
    return render(request, "staff/book.jinja", {
        "record": record, "offers": offers, "sites": sites, "order": order,
        "site_id": site_id or "", "show_refused": show_refused,
        "refused_times": refused_times, "notice": notice_for_this_page(request)},
        staff=staff, errors=errors, status=400 if errors else 200)


@router.post("/{request_id}/book/choose")
def choose(request: Request, request_id: RequestId, staff: Clerk, form: Form) -> Response:
    """Hold the chosen time (a new booking), or note it (moving a booking)."""
    slot_text = text_of(form, "slot")
    if not ascii_digits(slot_text, 10) or not 0 < int(slot_text) < 2**31:
        tell_next_page(request, "Choose a time from the list.")
        return see_other(f"/staff/requests/{request_id}/book")
    slot_id = int(slot_text)
    record = _record(request, staff, request_id)
    state = _booking_state(request)
    if record.active_appointment and record.active_appointment.state.value == "booked":
        state.clear()
        state.update(request_id=request_id, slot_id=slot_id,
                     moving=record.active_appointment.appointment_id)
        return see_other(f"/staff/requests/{request_id}/book/confirm")

    def hold() -> Response:
        try:
            hold_id = steps.hold_for_patient(
                database(request), staff.actor, request_id, slot_id, state.get("hold_id")
                if state.get("request_id") == request_id else None, now=now_of(request),
                hold_minutes=settings_of(request.app).hold_minutes)
        except BookingError as refused:
            tell_next_page(request, f"{refused.message}. Choose another time.")
            return see_other(f"/staff/requests/{request_id}/book")
        state.clear()
        state.update(request_id=request_id, slot_id=slot_id, hold_id=hold_id)
        return see_other(f"/staff/requests/{request_id}/book/confirm")

    return once(request, staff, form, f"/staff/requests/{request_id}/book/confirm", hold)


@router.post("/{request_id}/book/choose-refused")
def choose_refused(request: Request, request_id: RequestId, staff: Clerk,
                   form: Form) -> Response:
    """A time the slot rules refuse: nothing is held (the rules would refuse a hold too); the
    confirm page asks for the overrides, and booking checks everything again."""
    slot_text = text_of(form, "slot")
    if not ascii_digits(slot_text, 10) or not 0 < int(slot_text) < 2**31:
        tell_next_page(request, "Choose a time from the list.")
        return see_other(f"/staff/requests/{request_id}/book?refused=yes")
    record = _record(request, staff, request_id)
    state = _booking_state(request)
    if state.get("hold_id") and state.get("request_id") == request_id:
        steps.let_go_of_hold(database(request), staff.actor, state["hold_id"],
                             now=now_of(request))
    active = record.active_appointment
    state.clear()
    state.update(request_id=request_id, slot_id=int(slot_text), overriding=True,
                 moving=active.appointment_id if active and active.state.value == "booked"
                 else None)
    return see_other(f"/staff/requests/{request_id}/book/confirm")


@router.get("/{request_id}/book/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, request_id: RequestId, staff: Clerk) -> Response:
    return _confirm(request, staff, request_id)


@router.post("/{request_id}/book/confirm")
def confirm(request: Request, request_id: RequestId, staff: Clerk, form: Form) -> Response:
    state = _booking_state(request)
    if state.get("request_id") != request_id:
        tell_next_page(request, "Choose a time first.")
        return see_other(f"/staff/requests/{request_id}/book")
    reason = text_of(form, "reason")
    problem = reason_error(reason, what="why you are booking this time for the patient")
    if state.get("overriding"):
        return _book_overriding(request, staff, request_id, form, reason, problem)
    if problem:
        return _confirm(request, staff, request_id, {"reason": problem}, form)

    def book() -> Response:
        try:
            if state.get("moving"):
                steps.move_for_patient(database(request), staff.actor, state["moving"],
                                       state["slot_id"], reason.strip(), now=now_of(request))
            else:
                steps.book_held_for_patient(database(request), staff.actor, state["hold_id"],
                                            reason.strip(), now=now_of(request))
        except BookingError as refused:
            state.clear()
            tell_next_page(request, f"Not booked: {refused.message}. Choose another time.")
            return see_other(f"/staff/requests/{request_id}/book")
        state.clear()
        tell_next_page(request, "Booked. The patient will be told how they chose to hear "
                                "from us (text, email or letter).")
        return see_other(f"/staff/requests/{request_id}")

    return once(request, staff, form, f"/staff/requests/{request_id}", book)


@router.post("/{request_id}/cancel")
def cancel(request: Request, request_id: RequestId, staff: Clerk, form: Form) -> Response:
    record = _record(request, staff, request_id)
    active = record.active_appointment
    reason = text_of(form, "cancel-reason")
    problem = reason_error(reason, what="why you are cancelling")
    if active is None or problem:
        errors = {"cancel-reason": problem or "There is no appointment to cancel"}
        return _render_search(request, staff, record, errors)

    def cancel_it() -> Response:
        try:
            steps.cancel_for_patient(database(request), staff.actor, active.appointment_id,
                                     reason.strip(), now=now_of(request))
        except BookingError as refused:
            return _render_search(request, staff, record, {"cancel-reason": refused.message})
        tell_next_page(request, "Appointment cancelled. The patient will be told.")
        return see_other(f"/staff/requests/{request_id}")

    return once(request, staff, form, f"/staff/requests/{request_id}", cancel_it)


def _book_overriding(request: Request, staff: ConsoleStaff, request_id: int, form: FormData,
                     reason: str, problem: str | None) -> Response:
    state = _booking_state(request)
    rules = _rules_in_the_way(request, staff, request_id, state["slot_id"])
    errors = {"reason": problem} if problem else {}
    own = {}
    for rule in rules:
        if rule.open:
            errors["rules"] = (f"Rule {rule.rule_id} cannot be set aside by a {staff.role}: "
                               f"ask a {rule.who_may} to set it aside on the request first")
        elif rule.yours and rule.set_aside is None:
            field = f"override-{rule.rule_id}"
            text = text_of(form, field)
            trouble = reason_error(text, what=f"why you are setting aside {rule.rule_id}")
            if trouble:
                errors[field] = trouble
            own[rule.rule_id] = text.strip()
    if errors:
        return _confirm(request, staff, request_id, errors, form)

    def book() -> Response:
        try:
            slot_overrides.book_overriding(database(request), staff.actor, request_id,
                                           state["slot_id"], reason.strip(), own,
                                           now=now_of(request), moving=state.get("moving"))
        except BookingError as refused:
            state.clear()
            tell_next_page(request, f"Not booked: {refused.message}. Choose another time.")
            return see_other(f"/staff/requests/{request_id}/book?refused=yes")
        state.clear()
        tell_next_page(request, "Booked with the rules set aside recorded. The patient will "
                                "be told how they chose to hear from us.")
        return see_other(f"/staff/requests/{request_id}")

    return once(request, staff, form, f"/staff/requests/{request_id}", book)


def _rules_in_the_way(request: Request, staff: ConsoleStaff, request_id: int,
                      slot_id: int) -> tuple[slot_overrides.RuleInTheWay, ...]:
    try:
        return slot_overrides.rules_in_the_way(database(request), request_id, slot_id,
                                               staff.role, now=now_of(request))
    except NotFound:
        raise PageNotFound("That time no longer exists.") from None


def _confirm(request: Request, staff: ConsoleStaff, request_id: int,
             errors: dict[str, str] | None = None, form: FormData | None = None) -> Response:
    state = _booking_state(request)
    if state.get("request_id") != request_id:
        tell_next_page(request, "Choose a time first.")
        return see_other(f"/staff/requests/{request_id}/book")
    slot = slot_line(database(request), state["slot_id"])
    record = _record(request, staff, request_id)
    rules = (_rules_in_the_way(request, staff, request_id, state["slot_id"])
             if state.get("overriding") else ())
    values = dict(form.items()) if form else {}
    return render(request, "staff/book_confirm.jinja", {
        "record": record, "slot": slot, "moving": bool(state.get("moving")),
        "overriding": bool(state.get("overriding")), "rules": rules,
        "values": {k: v for k, v in values.items() if isinstance(v, str)}},
        staff=staff, errors=errors, status=400 if errors else 200)


def _render_search(request: Request, staff: ConsoleStaff, record: Any,
                   errors: dict[str, str]) -> Response:
    return render(request, "staff/book.jinja", {
        "record": record, "offers": [], "sites": site_names(database(request)),
        "order": "soonest", "site_id": ""}, staff=staff, errors=errors, status=400)


def _record(request: Request, staff: ConsoleStaff, request_id: int):
    try:
        return request_record(database(request), request_id, today(request),
                                    reader(request, staff))
    except NotFound:
        raise PageNotFound(f"There is no request {request_id}.") from None


def _booking_state(request: Request) -> dict[str, Any]:
    return page_session(request).setdefault("booking", {})
