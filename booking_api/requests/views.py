"""Request routes: the rules' explanation of a request, the text clerks see (staff only: the
reasons carry clinical details)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from booking_api.access.deps import CurrentStaff
from booking_api.api.deps import ReadSessionDep
from booking_api.requests.services import RequestNotFound, explain_request

router = APIRouter(prefix="/api/requests", tags=["requests"])


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


@router.get("/{request_id}/rules", response_model=RequestRulesPublic,
            responses={401: {"description": "not signed in as staff"},
                       404: {"description": "no such request"}})
def request_rules(request_id: int, session: ReadSessionDep,
                  _staff: CurrentStaff) -> RequestRulesPublic:
    """Every appointability rule's verdict and reason for the request, with the outcome."""
    try:
        explanation = explain_request(session, request_id)
    except RequestNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    return RequestRulesPublic.model_validate(asdict(explanation))
