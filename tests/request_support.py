"""Requests for test worlds, made the way the service makes them: received, justified by a
vetter with a protocol, the facts the exam needs recorded, and placed by the appointability
rules. No fixture writes a rules-governed state itself (issue 17, item 3: stored state always
equals the rules' verdict), so a cancellation or a sweep in a test sees the same request the
service would."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlmodel import Session

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.requests.flows import (
    VettingProtocol,
    justify_request,
    record_request_fact,
    record_rule_override,
)
from booking_api.requests.models import Request
from booking_api.requests.services import explain_request, receive_request, today_in_london
from cdip_bench.vetted_requests import ready_facts
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from slot_rules.overrides import OverrideRole

INTAKE = Actor("system:test-intake", Channel.SYSTEM)
VETTER = Actor("vetting:test.vetter", Channel.CLERK, role="vetting")
CLERK = Actor("clerk:test.clerk", Channel.CLERK, role="clerk")
INVITED_BY_LETTER = "invited by letter with the booking reference (no phone or email on record)"


def received_request(session: Session, patient_id: int, exam_code: str, *,
                     received_at: datetime, booking_reference: str = "",
                     priority: Priority = Priority.ROUTINE, referrer: str = "GP",
                     **fields: object) -> Request:
    """A new request as intake records it (state received, its first event); a given
    `booking_reference` replaces the fresh one (tests that sign in with a known one)."""
    received = receive_request(session, INTAKE, "test referral", patient_id=patient_id,
                               exam_code=exam_code, priority=priority, received_at=received_at,
                               referrer=referrer, **fields)  # type: ignore[arg-type]
    request = session.get(Request, received.id)
    assert request is not None
    if booking_reference:
        request.booking_reference = booking_reference
        session.add(request)
        session.flush()
    return request


def appointable_request(session: Session, patient_id: int, exam_code: str, *,
                        received_at: datetime, booking_reference: str = "",
                        priority: Priority = Priority.ROUTINE, referrer: str = "GP",
                        facts: Mapping[str, object] | None = None,
                        today: date | None = None, **fields: object) -> Request:
    """A request the rules make appointable: received, its facts recorded (`ready_facts` by
    default), justified with a standard protocol; a patient without a phone or email has the
    self-booking contact rule set aside by a clerk (invited by letter). Fails loudly with the
    rules' explanation if they still say otherwise: the fixture would be lying."""
    on = today or today_in_london()
    request = received_request(session, patient_id, exam_code, received_at=received_at,
                               booking_reference=booking_reference, priority=priority,
                               referrer=referrer, **fields)
    assert request.id is not None
    for name, value in (ready_facts(exam_code, on) if facts is None else facts).items():
        record_request_fact(session, request.id, name, value, VETTER, on)
    exam = exam_catalogue()[exam_code]
    result = justify_request(session, request.id, VettingProtocol(
        exam_code=exam_code, protocol=f"{exam.name}: standard protocol", contrast=exam.contrast,
        sedation=False, priority=priority), VETTER, on)
    if "self-booking-contact" in {v.rule_id for v in result.pending}:
        record_rule_override(session, request.id, "self-booking-contact", OverrideRole.CLERK,
                             INVITED_BY_LETTER, CLERK, today=on)
    if request.state is not RequestState.APPOINTABLE:
        raise AssertionError("\n".join(explain_request(session, request.id, on).lines()))
    return request
