"""Disruptions for service managers (issue 15's console page): what is disrupted now or
coming, recording one (a room down, a site closed, a staff group short, a list cancelled or
an extra list), revoking one, and repairing the diary around one: a dry run showing who would
move where, then the repair applied, each moved patient told through the outbox. Clerks see
the list; managers and admins change it. Through `booking_api.console.disruptions` only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console import disruptions as service
from booking_api.console.diary_view import site_names
from booking_api.core.app_state import settings_of
from booking_api.core.errors import BookingError, NotFound
from domain.vocabulary import SessionPeriod, StaffRole
from pages_common.forms import text_of
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, notice_for_this_page, now_of, tell_next_page
from staff_console.views.common import (
    Clerk,
    Form,
    Manager,
    PageNotFound,
    database,
    once,
    reason_error,
    see_other,
    today,
)

router = APIRouter(prefix="/staff/disruptions", include_in_schema=False)
DisruptionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FIELDS = ("kind", "room_id", "site_id", "role", "people", "first_day", "last_day", "period",
          "template_id", "reason")
"""The form's fields, named as the service names them (its errors name these)."""
KINDS = (("room_down", "A room is out of use", "Room"),
         ("site_closed", "A whole site is closed", "Site"),
         ("staff_short", "A staff group is short", "Site, staff role and how many fewer"),
         ("session_cancelled", "One list is cancelled", "Room, date and session"),
         ("extra_list", "An extra list is added", "Room, date, session and template"))
MANAGERS = ("manager", "admin")


@router.get("", response_class=HTMLResponse)
def disruption_list(request: Request, staff: Clerk) -> Response:
    every = request.query_params.get("show") == "all"
    return render(request, "staff/disruptions.jinja", {
        "lines": service.disruption_lines(database(request), today(request), every=every),
        "every": every, "follow_ups": len(service.follow_ups_to_work(database(request))),
        "may_change": staff.role in MANAGERS, "notice": notice_for_this_page(request)},
        staff=staff)


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, staff: Manager) -> Response:
    return _form(request, staff, {"first_day": today(request).isoformat()})


@router.post("")
def record(request: Request, staff: Manager, form: Form) -> Response:
    fields = {name: text_of(form, name).strip() or None for name in FIELDS}
    try:
        body = service.disruption_body(fields)
    except BookingError as bad:
        return _form(request, staff, fields, {_field(bad.field): _words(bad.message)})

    def keep() -> Response:
        try:
            disruption_id = service.record_disruption(
                database(request), staff.actor, body, now=now_of(request),
                zone=settings_of(request.app).zone)
        except BookingError as bad:
            return _form(request, staff, fields, {_field(bad.field): _words(bad.message)})
        tell_next_page(request, f"Disruption {disruption_id} recorded. Plan the repair to see "
                                "who would move.")
        return see_other(f"/staff/disruptions/{disruption_id}")

    return once(request, staff, form, "/staff/disruptions", keep)


@router.get("/{disruption_id}", response_class=HTMLResponse)
def disruption_page(request: Request, disruption_id: DisruptionId, staff: Clerk) -> Response:
    return _detail(request, staff, disruption_id)


@router.post("/{disruption_id}/revoke")
def revoke(request: Request, disruption_id: DisruptionId, staff: Manager,
           form: Form) -> Response:
    reason = text_of(form, "revoke-reason")
    problem = reason_error(reason, what="why the disruption is withdrawn")
    if problem:
        return _detail(request, staff, disruption_id, {"revoke-reason": problem}, status=400)

    def withdraw() -> Response:
        try:
            service.revoke_disruption(database(request), staff.actor, disruption_id,
                                      reason.strip(), now=now_of(request))
        except NotFound:
            raise PageNotFound(f"There is no disruption {disruption_id}.") from None
        except BookingError as refused:
            return _detail(request, staff, disruption_id, {"revoke-reason": refused.message},
                           status=409)
        tell_next_page(request, f"Disruption {disruption_id} withdrawn; it is kept, marked "
                                "revoked, with your reason.")
        return see_other(f"/staff/disruptions/{disruption_id}")

    return once(request, staff, form, f"/staff/disruptions/{disruption_id}", withdraw)


@router.get("/{disruption_id}/repair", response_class=HTMLResponse)
def repair_plan(request: Request, disruption_id: DisruptionId, staff: Manager) -> Response:
    """The dry run: who would move where; nothing changes."""
    line = _line(request, disruption_id)
    try:
        outcome = service.repair_around(database(request), staff.actor, disruption_id,
                                        now=now_of(request), dry_run=True)
    except NotFound:
        return _detail(request, staff, disruption_id, {
            "repair": "Only an active disruption can be repaired around"}, status=409)
    except BookingError as refused:
        return _detail(request, staff, disruption_id, {"repair": _said(refused)}, status=409)
    return render(request, "staff/disruption_repair.jinja", {
        "line": line, "outcome": outcome}, staff=staff)


@router.post("/{disruption_id}/repair")
def repair_apply(request: Request, disruption_id: DisruptionId, staff: Manager,
                 form: Form) -> Response:
    """Apply the repair (planned again on the diary as it is now, in one transaction)."""
    _line(request, disruption_id)

    def apply() -> Response:
        try:
            outcome = service.repair_around(database(request), staff.actor, disruption_id,
                                            now=now_of(request), dry_run=False)
        except NotFound:
            return _detail(request, staff, disruption_id, {
                "repair": "Only an active disruption can be repaired around"}, status=409)
        except BookingError as refused:
            return _detail(request, staff, disruption_id, {"repair": _said(refused)},
                           status=409)
        tell_next_page(request, (
            f"Repair applied: {len(outcome.moves)} moved and told, {len(outcome.unplaced)} "
            f"on the clerks' list, {outcome.lists_written} lists opened or changed, "
            f"{outcome.lists_closed} closed."))
        return see_other(f"/staff/disruptions/{disruption_id}")

    return once(request, staff, form, f"/staff/disruptions/{disruption_id}", apply)


def _detail(request: Request, staff: ConsoleStaff, disruption_id: int,
            errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "staff/disruption.jinja", {
        "line": _line(request, disruption_id), "may_change": staff.role in MANAGERS,
        "notice": notice_for_this_page(request)}, staff=staff, errors=errors,
        status=status)


def _form(request: Request, staff: ConsoleStaff, values: dict[str, str | None],
          errors: dict[str, str] | None = None) -> Response:
    return render(request, "staff/disruption_new.jinja", {
        "values": {k: v or "" for k, v in values.items()}, "kinds": KINDS,
        "sites": site_names(database(request)), "roles": [r.value for r in StaffRole],
        "periods": [p.value for p in SessionPeriod]},
        staff=staff, errors=errors, status=400 if errors else 200)


def _line(request: Request, disruption_id: int) -> service.DisruptionLine:
    try:
        return service.disruption_line(database(request), disruption_id)
    except NotFound:
        raise PageNotFound(f"There is no disruption {disruption_id}.") from None


def _field(name: str | None) -> str:
    return name if name in FIELDS else "kind"


FIELD_WORDS = {"room_id": "the room", "site_id": "the site", "role": "the staff role",
               "people": "how many fewer staff", "template_id": "the template",
               "first_day": "the first day", "last_day": "the last day", "period": "the session"}


def _words(message: str) -> str:
    """The service's message with the form's words for its field and kind codes."""
    for code, words in FIELD_WORDS.items():
        message = message.replace(f" {code}", f" {words}")
    for code, _text, _needs in KINDS:
        message = message.replace(code, code.replace("_", " "))
    return message[:1].upper() + message[1:]


def _said(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error)
    return text[:1].upper() + text[1:]


