"""Request state changes and the rules' view of a request.

Every state change goes through `transition_request`: it checks the lifecycle table, writes the
append-only request event and an audit event in the caller's transaction, and refuses an
illegal change before touching anything. Appointability is evaluated by `slot_rules` over the
facts `rule_facts` assembles; `reevaluate_request` moves a request to match the outcome, and
`reopen_request` places a request whose booking was cancelled (never straight to appointable).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Integer, Select, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from booking_api.audit.reads import Reader, record_read
from booking_api.audit.services import Actor, record_audit
from booking_api.core.channel import Channel
from booking_api.core.columns import utc_now
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.rule_facts import (
    facts_of_requests,
    overrides_of_requests,
    request_facts,
    request_overrides,
)
from domain.lifecycle import IllegalTransition, RequestState, check_request_transition
from domain.vocabulary import Priority
from slot_rules.appointability import Appointability, Outcome
from slot_rules.loading import shipped_appointability
from slot_rules.slot_request import LONDON

RULES_ACTOR = Actor("system:rules", Channel.SYSTEM)
"""Who moves a request when the rules' outcome changes (the fact's recorder is audited too)."""

REASON_REQUIRED = frozenset({RequestState.REJECTED, RequestState.CANCELLED})
EVALUATED_STATES = frozenset({RequestState.JUSTIFIED, RequestState.WAITING,
                              RequestState.APPOINTABLE})
_REFERENCES = random.SystemRandom()
_TARGET = {Outcome.APPOINTABLE: RequestState.APPOINTABLE, Outcome.WAITING: RequestState.WAITING}


class RequestNotFound(LookupError):
    def __init__(self, request_id: int) -> None:
        super().__init__(f"there is no request {request_id}")
        self.request_id = request_id


class RequestChangeRefused(ValueError):
    """A change to a request that is not allowed; nothing was written."""

    def __init__(self, request_id: int | None, problem: str) -> None:
        super().__init__(f"request {request_id}: {problem}")
        self.request_id = request_id


def today_in_london() -> date:
    return datetime.now(LONDON).date()


def get_request(session: Session, request_id: int, *, for_update: bool = False) -> Request:
    """The request, locked for the rest of the transaction when `for_update` (PostgreSQL)."""
    request = session.get(Request, request_id, with_for_update=for_update or None)
    if request is None:
        raise RequestNotFound(request_id)
    return request


@dataclass(frozen=True)
class ReceivedRequest:
    id: int
    booking_reference: str


def receive_request(session: Session, actor: Actor, reason: str, *, patient_id: int,
                    exam_code: str, priority: Priority, received_at: datetime, referrer: str,
                    clinical_question: str | None = None, due_date: date | None = None,
                    earliest_date: date | None = None, latest_date: date | None = None,
                    site_id: str | None = None) -> ReceivedRequest:
    """Record a new request (state `received`, a fresh booking reference): the row, its
    first event and the audit event, in the caller's transaction. Core statements, no ORM
    object: on PostgreSQL the row and its event are one statement (every HL7 order makes
    one); on SQLite two. The audit row is written as the transaction commits."""
    reference = new_booking_reference(_REFERENCES)
    now = utc_now()
    params = {"r_exam": exam_code, "r_priority": priority, "r_received": received_at,
              "r_due": due_date, "r_earliest": earliest_date, "r_latest": latest_date,
              "r_referrer": referrer, "r_question": clinical_question, "r_patient": patient_id,
              "r_reference": reference, "r_site": site_id, "changed_at": now,
              "actor_name": actor.name, "old_state": None,
              "new_state": RequestState.RECEIVED, "why": reason}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        request_id = connection.execute(_RECEIVE_AND_RECORD_EVENT, params).scalar_one()
    else:
        request_id = connection.execute(_INSERT_RECEIVED, params).scalar_one()
        connection.execute(_RECORD_EVENT, {**params, "request_id": request_id})
    record_audit(session, actor, "request.received", "request", request_id,
                 after={"state": RequestState.RECEIVED.value, "exam_code": exam_code,
                        "patient_id": patient_id}, reason=reason)
    return ReceivedRequest(request_id, reference)


def transition_request(session: Session, request: Request, target: RequestState, actor: Actor,
                       reason: str | None) -> None:
    """Move a request to `target`, recording the event and the audit row; refuse what the
    lifecycle forbids (RequestChangeRefused, with the IllegalTransition as its cause).

    The state column and the event are written at once with Core statements (the audit row
    as the transaction commits), and the loaded `request` updated to match without being
    marked changed: a booking changes a request on every call, and a unit-of-work flush
    costs several times the statements."""
    target = RequestState(target)
    current = RequestState(request.state)
    try:
        check_request_transition(current, target)
    except IllegalTransition as error:
        raise RequestChangeRefused(request.id, str(error)) from error
    if target in REASON_REQUIRED and not (reason and reason.strip()):
        raise RequestChangeRefused(request.id, f"moving to '{target}' needs a reason")
    if request in session.new:
        session.flush()  # the row must exist before its state column is updated
    now = utc_now()
    connection = session.connection()
    params = {"request_id": request.id, "new_state": target, "old_state": current,
              "changed_at": now, "actor_name": actor.name, "why": reason}
    if connection.dialect.name == "postgresql":
        connection.execute(_SET_STATE_AND_RECORD_EVENT, params)
    else:
        connection.execute(_SET_STATE, params)
        connection.execute(_RECORD_EVENT, params)
    set_committed_value(request, "state", target)
    set_committed_value(request, "updated_at", now)
    record_audit(session, actor, "request.transition", "request", request.id,
                 before={"state": current.value}, after={"state": target.value}, reason=reason)


def _event_row(request_id: ColumnElement[int]) -> Select:
    """The request_event row of a transition, from the statement's parameters."""
    column = RequestEvent.__table__.c  # type: ignore[attr-defined]
    return select(request_id, bindparam("changed_at", type_=column.at.type),
                  bindparam("actor_name", type_=column.actor.type),
                  bindparam("old_state", type_=column.from_state.type),
                  bindparam("new_state", type_=column.to_state.type),
                  bindparam("why", type_=column.reason.type))


_EVENT_COLUMNS = ["request_id", "at", "actor", "from_state", "to_state", "reason"]
_SET_STATE = (update(Request).where(Request.id == bindparam("request_id"))
              .values(state=bindparam("new_state"), updated_at=bindparam("changed_at")))
_RECORD_EVENT = insert(RequestEvent).from_select(
    _EVENT_COLUMNS, _event_row(bindparam("request_id", type_=Integer)))
_changed = _SET_STATE.returning(Request.id).cte("changed")
_SET_STATE_AND_RECORD_EVENT = insert(RequestEvent).from_select(
    _EVENT_COLUMNS, _event_row(_changed.c.id).select_from(_changed))
"""On PostgreSQL the state change and its event row are one statement (a data-modifying
CTE): every booking makes one, and each round trip costs more than the work in it. The
parameter names are deliberately none of the request's columns: SQLAlchemy would add any
such key to the UPDATE's SET clause."""
_INSERT_RECEIVED = insert(Request).values(
    exam_code=bindparam("r_exam"), priority=bindparam("r_priority"),
    received_at=bindparam("r_received"), due_date=bindparam("r_due"),
    earliest_date=bindparam("r_earliest"), latest_date=bindparam("r_latest"),
    referrer=bindparam("r_referrer"), clinical_question=bindparam("r_question"),
    patient_id=bindparam("r_patient"), state=RequestState.RECEIVED,
    booking_reference=bindparam("r_reference"), vetted_by=None, vetted_at=None, protocol=None,
    vetting_note=None, site_id=bindparam("r_site"), updated_at=bindparam("changed_at"),
).returning(Request.id)
_received = _INSERT_RECEIVED.cte("received")
_RECEIVE_AND_RECORD_EVENT = insert(RequestEvent).from_select(
    _EVENT_COLUMNS, _event_row(_received.c.id).select_from(_received)
).returning(RequestEvent.request_id)
"""A new request and its first event in one statement (PostgreSQL; SQLite cannot write in
a WITH clause, so there `_INSERT_RECEIVED` then `_RECORD_EVENT`)."""


def evaluate_request(session: Session, request: Request,
                     today: date | None = None) -> Appointability:
    """The appointability rules' verdicts on the request as stored now (changes nothing)."""
    on = today or today_in_london()
    return shipped_appointability().evaluate(request_facts(session, request, on), on,
                                             request_overrides(session, request.id))


def evaluate_requests(session: Session, requests: Sequence[Request],
                      today: date | None = None) -> dict[int, Appointability]:
    """`evaluate_request` of many requests, their rows read in a handful of queries."""
    on = today or today_in_london()
    facts = facts_of_requests(session, requests, on)
    overrides = overrides_of_requests(session, list(facts))
    ruleset = shipped_appointability()
    return {request_id: ruleset.evaluate(known, on, overrides.get(request_id, ()))
            for request_id, known in facts.items()}


def reevaluate_request(session: Session, request: Request,
                       today: date | None = None) -> Appointability:
    """Evaluate and move the request to match: appointable, or waiting while a condition is
    pending; a failing rule leaves a justified or waiting request where it is (a person must
    act: override, reject or cancel) and takes an appointable one back to waiting."""
    result = evaluate_request(session, request, today)
    target = state_the_rules_want(RequestState(request.state), result)
    if target is not None:
        transition_request(session, request, target, RULES_ACTOR, outcome_reason(result))
    return result


def reopen_request(session: Session, request: Request, actor: Actor, reason: str,
                   today: date | None = None) -> Appointability:
    """Give an appointed request whose booking was cancelled back to the rules: appointable
    when every rule is met now, waiting otherwise (a rule pending or failing: its facts may
    have changed since it was booked). The event's reason is `reason` and the verdict."""
    result = evaluate_request(session, request, today)
    target = (RequestState.APPOINTABLE if result.outcome is Outcome.APPOINTABLE
              else RequestState.WAITING)
    transition_request(session, request, target, actor, f"{reason}; {outcome_reason(result)}")
    return result


def state_the_rules_want(current: RequestState, result: Appointability) -> RequestState | None:
    """Where the rules' verdict moves a request now in `current`; None: it stays (not a state
    the rules govern, already right, or a failing rule that a person must act on)."""
    if current not in EVALUATED_STATES:
        return None
    target = _TARGET.get(result.outcome)
    if target is None and current is RequestState.APPOINTABLE:
        target = RequestState.WAITING
    return target if target is not current else None


def outcome_reason(result: Appointability) -> str:
    """The event reason for a move the rules made: what is pending or failing, by rule id."""
    rules = f"rules {result.ruleset} v{result.version}"
    if result.outcome is Outcome.APPOINTABLE:
        return f"{rules}: every rule met"
    waiting = ", ".join(v.rule_id for v in (*result.failures, *result.pending))
    return f"{rules}: {result.outcome.replace('_', ' ')} ({waiting})"


@dataclass(frozen=True)
class RuleExplanation:
    rule_id: str
    description: str
    status: str
    reason: str
    hard_stop: bool
    overridable: bool
    overridden_by: str | None
    override_role: str | None
    override_reason: str | None


@dataclass(frozen=True)
class RequestExplanation:
    request_id: int
    state: str
    outcome: str
    ruleset: str
    version: str
    evaluated_on: date
    pending: tuple[str, ...]
    failing: tuple[str, ...]
    notes: tuple[str, ...]
    rules: tuple[RuleExplanation, ...]

    def lines(self) -> list[str]:
        """The text a clerk reads: outcome, then every rule's verdict and reason."""
        head = (f"request {self.request_id} ({self.state}): {self.outcome.replace('_', ' ')} "
                f"— rules {self.ruleset} v{self.version}, {self.evaluated_on.isoformat()}")
        return [head, *(f"[{r.status.upper()}] {r.rule_id}: {r.reason}" for r in self.rules)]


def explain_request(session: Session, request_id: int, today: date | None = None,
                    reader: Reader | None = None) -> RequestExplanation:
    """Every appointability rule's verdict and reason for one request (with its facts and
    overrides). A staff `reader` is logged as having read the request (`audit.reads`)."""
    request = get_request(session, request_id)
    result = evaluate_request(session, request, today)
    record_read(session, reader, request.patient_id, "request", request_id)
    return RequestExplanation(
        request_id=request_id, state=RequestState(request.state).value,
        outcome=result.outcome.value, ruleset=result.ruleset, version=result.version,
        evaluated_on=result.evaluated_on, pending=tuple(v.rule_id for v in result.pending),
        failing=tuple(v.rule_id for v in result.failures), notes=result.notes,
        rules=tuple(RuleExplanation(
            rule_id=v.rule_id, description=v.description, status=v.status.value,
            reason=v.reason, hard_stop=v.hard_stop, overridable=v.overridable,
            overridden_by=v.override.by if v.override else None,
            override_role=v.override.role.value if v.override else None,
            override_reason=v.override.reason if v.override else None)
            for v in result.verdicts))
