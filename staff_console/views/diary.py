"""A site's diary for clerks: a day per room (sessions, templates, slots free, held, booked
or blocked; for a taken slot only the exam, the patient's initials and the request), or a
week in counts; block a free slot or unblock a blocked one with a reason. Print-friendly."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console import steps
from booking_api.console.diary_view import (
    SlotLine,
    site_day,
    site_names,
    site_week,
    slot_line,
)
from booking_api.core.errors import BookingError, NotFound
from pages_common.forms import FormData, text_of
from pages_common.rendering import LONDON
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
    today,
)

router = APIRouter(prefix="/staff/diary", include_in_schema=False)
SlotId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SiteId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("", response_class=HTMLResponse)
def choose_site(request: Request, staff: Clerk) -> Response:
    query = request.query_params
    if query.get("site"):
        day = query.get("date", "")
        view = query.get("view", "day")
        return see_other(f"/staff/diary/{query['site']}?date={day}&view={view}")
    return render(request, "staff/diary_choose.jinja", {
        "sites": site_names(database(request)), "today": today(request).isoformat()},
        staff=staff)


@router.get("/{site_id}", response_class=HTMLResponse)
def diary(request: Request, site_id: SiteId, staff: Clerk) -> Response:
    query = request.query_params
    errors = {}
    day = today(request)
    if query.get("date"):
        try:
            day = date.fromisoformat(query["date"])
        except ValueError:
            errors["date"] = "Enter the date as YYYY-MM-DD, for example 2026-12-07"
    view = query.get("view", "day")
    if view not in ("day", "week"):
        errors["view"] = "Select a day or a week"
        view = "day"
    try:
        if view == "week":
            monday = day - timedelta(days=day.weekday())
            shown = site_week(database(request), site_id, monday)
            around = {"previous": monday - timedelta(days=7), "next": monday + timedelta(days=7)}
        else:
            shown = site_day(database(request), site_id, day)
            around = {"previous": day - timedelta(days=1), "next": day + timedelta(days=1)}
    except NotFound:
        raise PageNotFound(f"There is no site {site_id}.") from None
    return render(request, f"staff/diary_{view}.jinja", {
        "diary": shown, "around": around, "view": view, "day": day,
        "notice": notice_for_this_page(request)},
        staff=staff, errors=errors, status=400 if errors else 200)


@router.get("/slots/{slot_id}/{action}", response_class=HTMLResponse)
def slot_change_page(request: Request, slot_id: SlotId, action: str, staff: Clerk) -> Response:
    return _slot_page(request, staff, slot_id, action)


@router.post("/slots/{slot_id}/{action}")
def change_slot(request: Request, slot_id: SlotId, action: str, staff: Clerk,
                form: Form) -> Response:
    if action not in ("block", "unblock"):
        raise PageNotFound("There is no such change to a slot.")
    reason = text_of(form, "reason")
    problem = reason_error(reason, what=f"why you are {action}ing this slot")
    if problem:
        return _slot_page(request, staff, slot_id, action, {"reason": problem}, form)
    slot = _slot(request, slot_id)
    back = _diary_of(slot)

    def change() -> Response:
        step = steps.block if action == "block" else steps.unblock
        try:
            step(database(request), staff.actor, slot_id, reason.strip(), now=now_of(request))
        except BookingError as refused:
            return _slot_page(request, staff, slot_id, action, {"reason": refused.message},
                              form, status=409)
        local = slot.start_at.astimezone(LONDON)
        tell_next_page(request, f"The {local:%H:%M} slot in {slot.room_name} is {action}ed.")
        return see_other(back)

    return once(request, staff, form, back, change)


def _slot_page(request: Request, staff: ConsoleStaff, slot_id: int, action: str,
               errors: dict[str, str] | None = None, form: FormData | None = None,
               status: int | None = None) -> Response:
    if action not in ("block", "unblock"):
        raise PageNotFound("There is no such change to a slot.")
    slot = _slot(request, slot_id)
    return render(request, "staff/slot_change.jinja", {
        "slot": slot, "action": action, "back": _diary_of(slot),
        "values": {"reason": text_of(form, "reason")} if form else {}},
        staff=staff, errors=errors, status=status or (400 if errors else 200))


def _slot(request: Request, slot_id: int) -> SlotLine:
    try:
        return slot_line(database(request), slot_id)
    except NotFound:
        raise PageNotFound(f"There is no slot {slot_id}.") from None


def _diary_of(slot: SlotLine) -> str:
    day = slot.start_at.astimezone(LONDON).date().isoformat()
    return f"/staff/diary/{slot.site_id}?date={day}"
