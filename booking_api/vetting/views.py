"""Vetting and the rules, for staff: the rules' explanation of a request (the text clerks
see), and the changes that feed the rules — vetting, a new fact, an override. Staff only:
the reasons carry clinical details. Every POST is idempotent (`Idempotency-Key`) and answers
with the request's explanation as it stands after the change.

Override roles: a clerk, manager or admin account overrides as a `clerk`; a vetting account
(radiologists and radiographers) says which of the two it acts as, and the audit keeps it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from booking_api.access.deps import CurrentStaff, IdempotentRoute, VettingStaff, reader_of
from booking_api.access.models import AccountRole
from booking_api.access.principals import StaffPrincipal
from booking_api.api.deps import ReadSessionDep, SessionDep, clock_of
from booking_api.audit.reads import Reader
from booking_api.core.inputs import PlainText, SafeText, ScalarValue
from booking_api.requests import flows
from booking_api.requests.rule_facts import APPOINTABILITY
from booking_api.requests.services import RequestChangeRefused, RequestNotFound, explain_request
from domain.vocabulary import Priority
from slot_rules.facts import FactError, FactType, fact_named
from slot_rules.overrides import OverrideRefused, OverrideRole
from slot_rules.slot_request import LONDON

router = APIRouter(prefix="/api/requests", tags=["requests"])
staff_router = APIRouter(prefix="/api/staff/requests", tags=["requests"],
                         route_class=IdempotentRoute)
ROLES_CLAIMABLE = {
    AccountRole.VETTING: frozenset({OverrideRole.RADIOGRAPHER, OverrideRole.RADIOLOGIST}),
    AccountRole.CLERK: frozenset({OverrideRole.CLERK}),
    AccountRole.MANAGER: frozenset({OverrideRole.CLERK}),
    AccountRole.ADMIN: frozenset({OverrideRole.CLERK}),
}
ERRORS = {401: {"description": "not signed in as staff"},
          403: {"description": "this role may not do that"},
          404: {"description": "no such request"},
          409: {"description": "the request's state does not allow this"},
          422: {"description": "bad input; the field is named"}}


class RuleVerdictPublic(BaseModel):
    rule_id: str
    description: str
    status: str
    reason: str
    hard_stop: bool
    overridable: bool
    overridden_by: str | None
    override_role: str | None
    override_reason: str | None


class RequestRulesPublic(BaseModel):
    request_id: int
    state: str
    outcome: str
    ruleset: str
    version: str
    evaluated_on: date
    pending: list[str]
    failing: list[str]
    notes: list[str]
    rules: list[RuleVerdictPublic]


class VettingIn(BaseModel):
    decision: Literal["justify", "reject"]
    exam_code: PlainText | None = Field(default=None, max_length=40)
    protocol: SafeText | None = Field(default=None, max_length=200)
    contrast: bool = False
    sedation: bool = False
    priority: Priority | None = None
    special_requirements: SafeText | None = Field(default=None, max_length=2000)
    reason: SafeText | None = Field(default=None, max_length=2000,
                               description="why: required to reject, a note when justifying")


class FactIn(BaseModel):
    name: PlainText = Field(min_length=1, max_length=60)
    value: ScalarValue = Field(description="dates as YYYY-MM-DD")


class OverrideIn(BaseModel):
    rule_id: PlainText = Field(min_length=1, max_length=60)
    role: OverrideRole
    reason: SafeText = Field(min_length=1, max_length=2000, pattern=r"\S")
    ruleset: Literal["appointability", "slot_eligibility"] = APPOINTABILITY


@router.get("/{request_id}/rules", response_model=RequestRulesPublic, responses=ERRORS)
def request_rules(request_id: int, session: ReadSessionDep, staff: CurrentStaff,
                  request: Request) -> RequestRulesPublic:
    """Every appointability rule's verdict and reason for the request, with the outcome
    (the read is logged)."""
    try:
        return _explained(session, request_id, request, reader_of(staff, request))
    except RequestNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


@staff_router.post("/{request_id}/vetting", response_model=RequestRulesPublic, responses=ERRORS)
def vet(request_id: int, body: VettingIn, staff: VettingStaff, session: SessionDep,
        request: Request) -> RequestRulesPublic | JSONResponse:
    """Justify the request with its protocol (the rules then place it), or reject it."""
    if body.decision == "reject":
        return _commit(session, request_id, request, staff, lambda: flows.reject_request(
            session, request_id, body.reason or "", staff.actor))
    missing = [f for f in ("exam_code", "protocol", "priority") if getattr(body, f) is None]
    if missing:
        return _error(422, "invalid_input", f"justifying needs {missing[0]}", missing[0])
    protocol = flows.VettingProtocol(
        exam_code=body.exam_code or "", protocol=body.protocol or "", contrast=body.contrast,
        sedation=body.sedation, priority=body.priority or Priority.ROUTINE,
        special_requirements=body.special_requirements, note=body.reason)
    return _commit(session, request_id, request, staff, lambda: flows.justify_request(
        session, request_id, protocol, staff.actor, _today(request)))


@staff_router.post("/{request_id}/facts", response_model=RequestRulesPublic, responses=ERRORS)
def record_fact(request_id: int, body: FactIn, staff: CurrentStaff, session: SessionDep,
                request: Request) -> RequestRulesPublic | JSONResponse:
    """Record a fact (an eGFR result, a returned questionnaire); the request moves if the
    rules now say so."""
    try:
        fact_named(body.name)
    except FactError as error:
        return _error(422, "invalid_input", str(error), "name")
    try:
        value = _typed_value(body.name, body.value)
    except FactError as error:
        return _error(422, "invalid_input", str(error), "value")
    return _commit(session, request_id, request, staff, lambda: flows.record_request_fact(
        session, request_id, body.name, value, staff.actor, _today(request)))


@staff_router.post("/{request_id}/overrides", response_model=RequestRulesPublic,
                   responses=ERRORS)
def override_rule(request_id: int, body: OverrideIn, staff: CurrentStaff, session: SessionDep,
                  request: Request) -> RequestRulesPublic | JSONResponse:
    """Set one rule aside for this request, with a reason; refused where the rule's policy
    does not let the role override it."""
    if body.role not in ROLES_CLAIMABLE.get(staff.role, frozenset()):
        return _error(403, "not_permitted", f"a {staff.role} account cannot override as "
                      f"{body.role}", "role")
    return _commit(session, request_id, request, staff, lambda: flows.record_rule_override(
        session, request_id, body.rule_id, body.role, body.reason, staff.actor, body.ruleset,
        _today(request)))


def _commit(session: Session, request_id: int, request: Request, staff: StaffPrincipal,
            change) -> RequestRulesPublic | JSONResponse:
    """Run one change, explain the result and commit (inside the one transaction: on SQLite
    a transaction left open after the commit would block the idempotency record's write);
    a refusal rolls back and is answered as JSON."""
    try:
        change()
        explained = _explained(session, request_id, request, reader_of(staff, request))
        session.commit()
    except RequestNotFound as error:
        session.rollback()
        return _error(404, "not_found", str(error))
    except RequestChangeRefused as error:
        session.rollback()
        return _error(409, "change_refused", str(error))
    except OverrideRefused as error:
        session.rollback()
        return _error(403, "override_not_allowed", str(error), "rule_id")
    except FactError as error:
        session.rollback()
        return _error(422, "invalid_input", str(error), "value")
    return explained


def _explained(session: Session, request_id: int, request: Request,
               reader: Reader | None) -> RequestRulesPublic:
    explanation = explain_request(session, request_id, _today(request), reader)
    return RequestRulesPublic.model_validate(asdict(explanation))


def _typed_value(name: str, value: object) -> object:
    """JSON has no dates: a date fact arrives as YYYY-MM-DD text."""
    if isinstance(value, str) and fact_named(name).type is FactType.DATE:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise FactError(name, f"'{value}' is not a date written YYYY-MM-DD") from None
    return value


def _today(request: Request) -> date:
    return clock_of(request)().astimezone(LONDON).date()


def _error(status: int, code: str, detail: str, field: str | None = None) -> JSONResponse:
    body: dict[str, object] = {"detail": detail, "code": code}
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status)
