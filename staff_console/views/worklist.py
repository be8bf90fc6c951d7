"""The clerks' worklist: open requests across the network by clinical priority and breach
date, narrowed by the filters in the query string (codes only, never personal data), a page
at a time by an opaque cursor."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console.disruptions import follow_ups_to_work
from booking_api.console.worklist import (
    MAX_WEEKS,
    WORKLIST_STATES,
    WorklistFilters,
    filter_choices,
    worklist_page,
)
from booking_api.core.errors import InvalidInput
from domain.lifecycle import RequestState
from domain.vocabulary import Modality
from pages_common.forms import ascii_digits
from staff_console.rendering import render
from staff_console.signed_in import notice_for_this_page, now_of
from staff_console.views.common import Clerk, database

router = APIRouter(prefix="/staff", include_in_schema=False)
MAX_CODE = 40


@router.get("/worklist", response_class=HTMLResponse)
def worklist(request: Request, staff: Clerk) -> Response:
    query = request.query_params
    choices = filter_choices(database(request))
    filters, errors = read_filters(query, choices)
    page = None
    if not errors:
        try:
            page = worklist_page(database(request), filters, query.get("after") or None,
                                 now=now_of(request))
        except InvalidInput as bad:
            errors = {bad.field or "after": bad.message}
    values = {key: query.get(key, "") for key in
              ("modality", "trust", "site", "ics", "weeks", "needs_call", "state")}
    return render(request, "staff/worklist.jinja", {
        "page": page, "choices": choices, "values": values,
        "next_link": _next_link(request, page.next_cursor) if page else None,
        "follow_ups": () if query.get("after") else follow_ups_to_work(database(request)),
        "notice": notice_for_this_page(request)},
        staff=staff, errors=errors, status=400 if errors else 200)


def read_filters(query, choices) -> tuple[WorklistFilters, dict[str, str]]:
    """The filters from the query string, or the message for each bad one by field."""
    errors: dict[str, str] = {}
    modality = None
    if query.get("modality"):
        try:
            modality = Modality(query["modality"])
        except ValueError:
            errors["modality"] = "Select a modality from the list"
    known = {"trust": {t for t, _ in choices.trusts}, "site": {s for s, _ in choices.sites},
             "ics": {i for i, _ in choices.icss}}
    picked: dict[str, str | None] = {}
    for field, allowed in known.items():
        value = query.get(field) or None
        if value is not None and (len(value) > MAX_CODE or value not in allowed):
            errors[field] = f"Select a {field.upper() if field == 'ics' else field} from the list"
            value = None
        picked[field] = value
    weeks = None
    if query.get("weeks"):
        text = query["weeks"].strip()
        if not ascii_digits(text, 3) or int(text) > MAX_WEEKS:
            errors["weeks"] = f"Weeks waited must be a whole number from 0 to {MAX_WEEKS}"
        else:
            weeks = int(text)
    states: tuple[RequestState, ...] = WORKLIST_STATES
    if query.get("state"):
        if query["state"] not in {s.value for s in WORKLIST_STATES}:
            errors["state"] = "Select appointable or waiting"
        else:
            states = (RequestState(query["state"]),)
    filters = WorklistFilters(modality=modality, trust_id=picked["trust"],
                              site_id=picked["site"], ics_id=picked["ics"],
                              min_weeks_waited=weeks, needs_call=query.get("needs_call") == "yes",
                              states=states)
    return filters, errors


def _next_link(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = {k: v for k, v in request.query_params.items() if v and k != "after"}
    return "/staff/worklist?" + urlencode({**params, "after": cursor})
