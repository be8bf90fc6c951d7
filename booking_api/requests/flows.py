"""Multi-step request processes: vetting (justify with a protocol, or reject), recording a new
fact, overriding a rule. Each checks everything before writing, writes in the caller's
transaction, audits, and then lets the rules move the request (waiting ⇄ appointable)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from booking_api.audit.services import Actor, record_audit
from booking_api.core.columns import utc_now
from booking_api.requests.models import Request
from booking_api.requests.rule_facts import APPOINTABILITY, encode_fact, exam_type
from booking_api.requests.rules_models import RequestFact, RequestProtocol, RuleOverride
from booking_api.requests.services import (
    EVALUATED_STATES,
    RequestChangeRefused,
    get_request,
    reevaluate_request,
    transition_request,
)
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from slot_rules.appointability import Appointability
from slot_rules.loading import shipped_appointability, shipped_slot_eligibility
from slot_rules.overrides import Override, OverrideRefused, OverrideRole, RuleMeta

VETTING_ROLES = frozenset({"radiologist", "radiographer", "vetting"})
"""Actor roles that may vet: the clinical roles, and the access layer's `vetting` accounts."""


@dataclass(frozen=True)
class VettingProtocol:
    """What the vetting radiologist or radiographer decides the exam will be."""

    exam_code: str
    protocol: str
    contrast: bool
    sedation: bool
    priority: Priority
    special_requirements: str | None = None
    note: str | None = None


def justify_request(session: Session, request_id: int, protocol: VettingProtocol, actor: Actor,
                    today: date | None = None) -> Appointability:
    """Justify a received request with its protocol, then let the rules place it."""
    request = get_request(session, request_id, for_update=True)
    _check_vetter(request_id, actor)
    if not protocol.protocol.strip():
        raise RequestChangeRefused(request_id, "a justified request needs a protocol name")
    try:
        exam_type(session, protocol.exam_code)
    except LookupError as error:
        raise RequestChangeRefused(request_id, f"exam_code: {error}") from error
    transition_request(session, request, RequestState.JUSTIFIED, actor,
                       f"justified: {protocol.protocol}")
    request.exam_code = protocol.exam_code
    request.priority = Priority(protocol.priority)
    request.protocol = protocol.protocol
    request.vetted_by, request.vetted_at = actor.name, utc_now()
    request.vetting_note = protocol.note
    session.add_all([request, RequestProtocol(
        request_id=request_id, exam_code=protocol.exam_code, protocol=protocol.protocol,
        contrast=protocol.contrast, sedation=protocol.sedation,
        special_requirements=protocol.special_requirements,
        priority=Priority(protocol.priority), assigned_by=actor.name)])
    record_audit(session, actor, "request.justify", "request", request_id,
                 after=_jsonable(asdict(protocol)))
    session.flush()
    return reevaluate_request(session, request, today)


def reject_request(session: Session, request_id: int, reason: str, actor: Actor) -> None:
    """Reject a request at vetting; the reason is required and goes back to the referrer."""
    request = get_request(session, request_id, for_update=True)
    _check_vetter(request_id, actor)
    if not reason or not reason.strip():
        raise RequestChangeRefused(request_id, "a rejection needs a reason")
    transition_request(session, request, RequestState.REJECTED, actor, reason)
    request.vetted_by, request.vetted_at, request.vetting_note = actor.name, utc_now(), reason
    session.add(request)
    session.flush()


def record_request_fact(session: Session, request_id: int, name: str, value: object,
                        actor: Actor, today: date | None = None) -> Appointability:
    """Record a new fact (FactError if unknown or mistyped) and re-evaluate the request."""
    request = get_request(session, request_id, for_update=True)
    stored = encode_fact(name, value)
    session.add(RequestFact(request_id=request_id, name=name, value=stored,
                            recorded_by=actor.name))
    record_audit(session, actor, "request.fact", "request", request_id, after={name: stored})
    session.flush()
    return reevaluate_request(session, request, today)


def record_rule_override(session: Session, request_id: int, rule_id: str, role: OverrideRole,
                         reason: str, actor: Actor, ruleset: str = APPOINTABILITY,
                         today: date | None = None) -> Appointability:
    """Record an override the rule's policy allows (OverrideRefused otherwise, nothing written)
    and re-evaluate the request."""
    request = get_request(session, request_id, for_update=True)
    override = Override(rule_id, role, actor.name, reason)
    meta = _rule_meta(ruleset, rule_id)
    meta.check_override(override)
    session.add(RuleOverride(request_id=request_id, ruleset=ruleset, rule_id=rule_id,
                             role=override.role, actor=actor.name, reason=reason))
    record_audit(session, actor, "request.override", "request", request_id,
                 after={"ruleset": ruleset, "rule_id": rule_id, "role": override.role.value},
                 reason=reason)
    session.flush()
    return reevaluate_request(session, request, today)


def reevaluate_open_requests(session: Session, today: date | None = None) -> dict[str, int]:
    """Re-evaluate every justified, waiting or appointable request: time alone changes some
    verdicts (a planned test entering its booking window, an eGFR growing too old). Returns how
    many requests are in each state afterwards, and how many moved."""
    requests = session.exec(select(Request).where(Request.state.in_(EVALUATED_STATES))
                            .order_by(Request.id).with_for_update()).all()
    counts = {"moved": 0}
    for request in requests:
        before = request.state
        reevaluate_request(session, request, today)
        counts["moved"] += request.state != before
        counts[str(request.state)] = counts.get(str(request.state), 0) + 1
    return counts


def _rule_meta(ruleset: str, rule_id: str) -> RuleMeta:
    rules = {APPOINTABILITY: shipped_appointability,
             "slot_eligibility": shipped_slot_eligibility}.get(ruleset)
    if rules is None:
        raise OverrideRefused(rule_id, f"no rule set '{ruleset}'")
    for rule in rules().rules:
        if rule.rule_id == rule_id:
            return rule.meta
    raise OverrideRefused(rule_id, f"no such rule in rule set '{ruleset}'")


def _check_vetter(request_id: int, actor: Actor) -> None:
    if actor.role not in VETTING_ROLES:
        raise RequestChangeRefused(request_id, f"vetting needs one of the roles "
                                   f"{', '.join(sorted(VETTING_ROLES))}; {actor.name} is "
                                   f"'{actor.role}'")


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Priority) else v) for k, v in values.items()}
