"""The vetting queue (vetting radiologists and radiographers): received requests by
priority and age; justify one with a protocol (the rules then place it, and its verdicts
show on its record) or reject it with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console import steps
from booking_api.console.catalogue import exam_choices
from booking_api.console.records import request_record
from booking_api.console.worklist import WorklistFilters, worklist_page
from booking_api.core.errors import InvalidInput, NotFound
from booking_api.questionnaires.read_models import answers_to_review
from booking_api.requests.flows import VettingProtocol
from booking_api.requests.services import RequestChangeRefused, RequestNotFound
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from pages_common.forms import FormData, text_of
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, notice_for_this_page, now_of, tell_next_page
from staff_console.views.common import (
    Form,
    Vetter,
    database,
    once,
    reader,
    reason_error,
    see_other,
    today,
)

router = APIRouter(prefix="/staff/vetting", include_in_schema=False)
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_PROTOCOL = 200
QUEUE = WorklistFilters(states=(RequestState.RECEIVED,))


@router.get("", response_class=HTMLResponse)
def queue(request: Request, staff: Vetter) -> Response:
    try:
        page = worklist_page(database(request), QUEUE, request.query_params.get("after"),
                             now=now_of(request))
    except InvalidInput as bad:
        return render(request, "staff/message.jinja", {
            "heading": "Vetting queue", "lines": [bad.message],
            "link": {"href": "/staff/vetting", "text": "First page"}}, staff=staff, status=400)
    next_link = f"/staff/vetting?after={page.next_cursor}" if page.next_cursor else None
    return render(request, "staff/vetting_queue.jinja", {
        "page": page, "next_link": next_link, "notice": notice_for_this_page(request),
        "to_review": answers_to_review(database(request), today(request))}, staff=staff)


@router.get("/{request_id}", response_class=HTMLResponse)
def vetting_page(request: Request, request_id: RequestId, staff: Vetter) -> Response:
    return _show(request, staff, request_id)


@router.post("/{request_id}")
def vet(request: Request, request_id: RequestId, staff: Vetter, form: Form) -> Response:
    decision = text_of(form, "decision")
    if decision not in ("justify", "reject"):
        return _show(request, staff, request_id, {"decision": "Select justify or reject"},
                     form)
    if decision == "reject":
        problem = reason_error(text_of(form, "reject-reason"), what="why you are rejecting it")
        if problem:
            return _show(request, staff, request_id, {"reject-reason": problem}, form)
        return once(request, staff, form, "/staff/vetting", lambda: _change(
            request, staff, request_id, form, lambda: steps.reject(
                database(request), staff.actor, request_id, text_of(form, "reject-reason"))))
    protocol = _protocol(form, {code for code, _ in exam_choices(database(request))})
    if isinstance(protocol, dict):
        return _show(request, staff, request_id, protocol, form)
    return once(request, staff, form, "/staff/vetting", lambda: _change(
        request, staff, request_id, form, lambda: steps.justify(
            database(request), staff.actor, request_id, protocol, today(request))))


def _change(request: Request, staff: ConsoleStaff, request_id: int, form: FormData,
            action) -> Response:
    try:
        action()
    except (RequestNotFound, RequestChangeRefused) as refused:
        return _show(request, staff, request_id, {"decision": str(refused)}, form, 409)
    tell_next_page(request, f"Request {request_id} vetted.")
    return see_other("/staff/vetting")


def _protocol(form: FormData, exams: set[str]) -> VettingProtocol | dict[str, str]:
    errors = {}
    exam = text_of(form, "exam-code")
    if exam not in exams:
        errors["exam-code"] = "Select the examination to do"
    name = text_of(form, "protocol").strip()
    if not name:
        errors["protocol"] = "Enter the protocol"
    elif len(name) > MAX_PROTOCOL:
        errors["protocol"] = f"The protocol must be {MAX_PROTOCOL} characters or fewer"
    priority = text_of(form, "priority")
    if priority not in {p.value for p in Priority}:
        errors["priority"] = "Select the clinical priority"
    note = text_of(form, "note").strip()
    if len(note) > 2000:
        errors["note"] = "The note must be 2000 characters or fewer"
    if errors:
        return errors
    options = form.get("options", [])
    chosen = {options} if isinstance(options, str) else set(options)
    return VettingProtocol(exam_code=exam, protocol=name, contrast="contrast" in chosen,
                           sedation="sedation" in chosen, priority=Priority(priority),
                           note=note or None)


def _show(request: Request, staff: ConsoleStaff, request_id: int,
          errors: dict[str, str] | None = None, form: FormData | None = None,
          status: int | None = None) -> Response:
    try:
        record = request_record(database(request), request_id, today(request),
                                    reader(request, staff))
    except NotFound:
        return render(request, "staff/message.jinja", {
            "heading": "Request not found", "lines": [f"There is no request {request_id}."],
            "link": {"href": "/staff/vetting", "text": "Back to the vetting queue"}},
            staff=staff, status=404)
    values = {k: text_of(form, k) for k in form} if form else {}
    return render(request, "staff/vet.jinja", {
        "record": record, "exams": exam_choices(database(request)), "values": values,
        "priorities": [p.value for p in Priority]},
        staff=staff, errors=errors, status=status or (400 if errors else 200))
