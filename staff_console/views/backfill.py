"""Backfill for clerks: the freed slots (the clerks' list among them) and a freed slot's
offer trail (who, when, in what place and why, their answer), where a clerk can stop the
offers or offer the slot to one chosen request instead, each with a reason (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.backfill import flows, read_models
from booking_api.backfill.read_models import Trail
from booking_api.core.errors import BookingError, NotFound
from pages_common.forms import FormData, text_of
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, notice_for_this_page, now_of, tell_next_page
from staff_console.views.common import (
    Clerk,
    Form,
    PageNotFound,
    database,
    once,
    reason_error,
    see_other,
)

router = APIRouter(prefix="/staff/backfill", include_in_schema=False)
FreedId = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATES = {"": "Every freed slot", "clerk_list": "The clerks' list (fill by phone)",
          "offering": "Being offered", "filled": "Filled", "stopped": "Stopped",
          "closed": "Closed"}
OPEN = ("pending", "offering")


@router.get("", response_class=HTMLResponse)
def freed_slots(request: Request, staff: Clerk) -> Response:
    state = request.query_params.get("state", "")
    errors = {} if state in STATES else {"state": "Select a state from the list"}
    shown = [] if errors else read_models.freed_slots(
        database(request), state or None, 200)
    return render(request, "staff/backfill_list.jinja", {
        "freed": shown, "state": state, "states": STATES}, staff=staff, errors=errors,
        status=400 if errors else 200)


@router.get("/{freed_id}", response_class=HTMLResponse)
def trail_page(request: Request, freed_id: FreedId, staff: Clerk) -> Response:
    return _trail_page(request, staff, freed_id)


@router.post("/{freed_id}/stop")
def stop(request: Request, freed_id: FreedId, staff: Clerk, form: Form) -> Response:
    reason = text_of(form, "stop-reason")
    problem = reason_error(reason, what="why you are stopping the offers")
    if problem:
        return _trail_page(request, staff, freed_id, {"stop-reason": problem}, form)
    back = f"/staff/backfill/{freed_id}"

    def change() -> Response:
        try:
            flows.stop_offers(database(request), staff.actor, freed_id, reason.strip(),
                              now=now_of(request))
        except BookingError as refused:
            return _trail_page(request, staff, freed_id, {"stop-reason": refused.message},
                               form, status=409)
        tell_next_page(request, "The offers are stopped; anyone holding one is told.")
        return see_other(back)

    return once(request, staff, form, back, change)


@router.post("/{freed_id}/redirect")
def redirect(request: Request, freed_id: FreedId, staff: Clerk, form: Form) -> Response:
    reason, chosen = text_of(form, "redirect-reason"), text_of(form, "request-id").strip()
    errors = {}
    if not chosen.isdigit() or not 1 <= int(chosen) < 2**31:
        errors["request-id"] = "Enter the request number, for example 1234"
    problem = reason_error(reason, field="redirect-reason",
                           what="why this patient should be offered it")
    if problem:
        errors["redirect-reason"] = problem
    if errors:
        return _trail_page(request, staff, freed_id, errors, form)
    back = f"/staff/backfill/{freed_id}"

    def change() -> Response:
        try:
            flows.redirect_offers(database(request), staff.actor, freed_id, int(chosen),
                                  reason.strip(), now=now_of(request),
                                  policy=request.app.state.offer_policy)
        except BookingError as refused:
            field = "redirect-reason" if refused.field == "reason" else "request-id"
            return _trail_page(request, staff, freed_id, {field: refused.message}, form,
                               status=409)
        tell_next_page(request, f"The slot is offered to request {chosen}.")
        return see_other(back)

    return once(request, staff, form, back, change)


def _trail_page(request: Request, staff: ConsoleStaff, freed_id: int,
                errors: dict[str, str] | None = None, form: FormData | None = None,
                status: int | None = None) -> Response:
    shown = _trail(request, freed_id)
    values = {name: text_of(form, name) for name in ("stop-reason", "request-id",
                                                      "redirect-reason")} if form else {}
    return render(request, "staff/backfill_trail.jinja", {
        "trail": shown, "open": shown.freed.state in OPEN, "values": values,
        "notice": notice_for_this_page(request)},
        staff=staff, errors=errors, status=status or (400 if errors else 200))


def _trail(request: Request, freed_id: int) -> Trail:
    try:
        return read_models.trail(database(request), freed_id)
    except NotFound:
        raise PageNotFound(f"There is no freed slot {freed_id}.") from None
