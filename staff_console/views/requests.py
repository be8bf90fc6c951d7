"""A request's record for staff: patient, exam, protocol, facts, every rule's verdict and
reason, state history, appointments and audit trail; recording a fact and overriding a rule
(a reason is required; a hard stop is refused with the rule named)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console import steps
from booking_api.console.records import FACT_CHOICES, request_record
from booking_api.console.slot_overrides import SLOT_RULES, slot_rules_to_set_aside
from booking_api.core.errors import BookingError, NotFound
from booking_api.requests.services import RequestChangeRefused, RequestNotFound
from pages_common.forms import text_of
from slot_rules.facts import FACTS, FactError
from slot_rules.overrides import OverrideRefused, OverrideRole
from staff_console.rendering import render
from staff_console.signed_in import CLERKS, ConsoleStaff, notice_for_this_page, tell_next_page
from staff_console.views.common import (
    AnyStaff,
    Form,
    database,
    once,
    reader,
    reason_error,
    see_other,
    today,
)

router = APIRouter(prefix="/staff/requests", include_in_schema=False)
MAX_ID = 2**31 - 1
RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_FACT_TEXT = 200
SLOT_PREFIX = "slot:"
"""The rule field's value for a slot rule (set aside for the request's bookings)."""


@router.get("/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, request_id: RequestId, staff: AnyStaff) -> Response:
    return show(request, staff, request_id)


def show(request: Request, staff: ConsoleStaff, request_id: int, *,
         errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
         status: int = 200) -> Response:
    try:
        record = request_record(database(request), request_id, today(request),
                                    reader(request, staff))
    except NotFound:
        return render(request, "staff/message.jinja", {
            "heading": "Request not found", "lines": [f"There is no request {request_id}."],
            "link": {"href": "/staff", "text": "Back to your start page"}},
            staff=staff, status=404)
    roles = steps.OVERRIDE_ROLES.get(staff.role, ())
    return render(request, "staff/request.jinja", {
        "record": record, "fact_choices": FACT_CHOICES, "override_roles": roles,
        "slot_rules": slot_rules_to_set_aside(staff.role),
        "values": values or {}, "notice": notice_for_this_page(request),
        "may_book": staff.role in CLERKS,
        "may_vet": staff.role == "vetting"}, staff=staff, errors=errors, status=status)


@router.post("/{request_id}/facts")
def record_fact(request: Request, request_id: RequestId, staff: AnyStaff,
                form: Form) -> Response:
    name, value = text_of(form, "fact-name"), text_of(form, "fact-value").strip()
    errors = {}
    if name not in FACTS:
        errors["fact-name"] = "Select the fact to record"
    if not value:
        errors["fact-value"] = "Enter the fact's value"
    elif len(value) > MAX_FACT_TEXT:
        errors["fact-value"] = f"The value must be {MAX_FACT_TEXT} characters or fewer"
    if errors:
        return show(request, staff, request_id, errors=errors, status=400,
                    values={"fact-name": name, "fact-value": value})

    def change() -> Response:
        try:
            steps.record_fact(database(request), staff.actor, request_id, name, value,
                              today(request))
        except FactError as bad:
            return show(request, staff, request_id, errors={"fact-value": str(bad)},
                        status=400, values={"fact-name": name, "fact-value": value})
        except (RequestNotFound, RequestChangeRefused) as refused:
            return show(request, staff, request_id, errors={"fact-name": str(refused)},
                        status=409)
        tell_next_page(request, f"Recorded: {FACTS[name].label}.")
        return _back(request_id)

    return once(request, staff, form, f"/staff/requests/{request_id}", change)


@router.post("/{request_id}/overrides")
def override(request: Request, request_id: RequestId, staff: AnyStaff, form: Form) -> Response:
    rule_id, role_text = text_of(form, "rule"), text_of(form, "override-role")
    reason = text_of(form, "override-reason")
    allowed = steps.OVERRIDE_ROLES.get(staff.role, ())
    errors = {}
    if not rule_id or len(rule_id) > 60:
        errors["rule"] = "Select the rule to override"
    role = OverrideRole(role_text) if role_text in {r.value for r in allowed} else None
    if role is None:
        if len(allowed) == 1:
            role = allowed[0]
        else:
            errors["override-role"] = "Select whose authority you override with"
    problem = reason_error(reason, what="why you are overriding this rule")
    if problem:
        errors["override-reason"] = problem
    values = {"rule": rule_id, "override-reason": reason}
    if errors or role is None:
        return show(request, staff, request_id, errors=errors, values=values, status=400)

    ruleset, rule = ((SLOT_RULES, rule_id.removeprefix(SLOT_PREFIX))
                     if rule_id.startswith(SLOT_PREFIX) else (steps.APPOINTABILITY, rule_id))

    def change() -> Response:
        try:
            steps.override_rule(database(request), staff.actor, staff.role, request_id,
                                rule, role, reason.strip(), today(request), ruleset)
        except OverrideRefused as refused:
            return show(request, staff, request_id, errors={"rule": str(refused)},
                        values=values, status=403)
        except BookingError as refused:
            return show(request, staff, request_id, errors={"rule": refused.message},
                        values=values, status=403)
        except (RequestNotFound, RequestChangeRefused) as refused:
            return show(request, staff, request_id, errors={"rule": str(refused)},
                        values=values, status=409)
        tell_next_page(request, f"Rule {rule} overridden; the reason is recorded." if
                       ruleset != SLOT_RULES else f"Slot rule {rule} set aside for this "
                       "request's bookings; the reason is recorded.")
        return _back(request_id)

    return once(request, staff, form, f"/staff/requests/{request_id}", change)


def _back(request_id: int) -> Response:
    return see_other(f"/staff/requests/{request_id}")
