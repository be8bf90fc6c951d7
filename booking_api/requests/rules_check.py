"""The check that stored request states equal the rules' verdicts: every writer (vetting, facts,
overrides, the demo seed, orders) must go through the rules, so a request stored as
appointable while a rule is pending is a bug this finds. Reads only; `cdip rules sweep
--check` runs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from booking_api.requests.models import Request
from booking_api.requests.services import (
    EVALUATED_STATES,
    evaluate_request,
    outcome_reason,
    state_the_rules_want,
)
from domain.lifecycle import RequestState


@dataclass(frozen=True)
class OutOfStep:
    """A request whose stored state is not what the rules say it should be."""

    request_id: int
    stored: RequestState
    rules_say: RequestState
    why: str


def requests_out_of_step(session: Session, today: date | None = None) -> list[OutOfStep]:
    """Every open request (justified, waiting, appointable) the rules would move, by id."""
    found = []
    requests = session.exec(select(Request).where(Request.state.in_(EVALUATED_STATES))
                            .order_by(Request.id)).all()
    for request in requests:
        result = evaluate_request(session, request, today)
        stored = RequestState(request.state)
        target = state_the_rules_want(stored, result)
        if target is not None:
            assert request.id is not None
            found.append(OutOfStep(request.id, stored, target, outcome_reason(result)))
    return found
