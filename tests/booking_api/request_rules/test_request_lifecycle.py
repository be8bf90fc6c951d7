"""Every request state change goes through one function: legal ones leave an event and an
audit row; illegal ones are refused and leave nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from booking_api.audit.models import AuditEvent
from booking_api.core.db import transaction
from booking_api.requests.flows import VettingProtocol, justify_request, reject_request
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.services import RequestChangeRefused, transition_request
from domain.lifecycle import IllegalTransition, RequestState
from domain.vocabulary import Priority
from tests.booking_api.request_rules.conftest import CLERK, RADIOLOGIST, TODAY

CT_WITH_CONTRAST = VettingProtocol(exam_code="CABPC", protocol="CT AP portal venous",
                                   contrast=True, sedation=False, priority=Priority.ROUTINE)


def written(engine: Engine, request_id: int) -> tuple[str, int, int]:
    """The request's state, and how many request events and audit rows it has."""
    with transaction(engine) as session:
        state = session.get(Request, request_id).state
        events = session.exec(select(func.count()).select_from(RequestEvent)
                              .where(RequestEvent.request_id == request_id)).one()
        audits = session.exec(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.entity_id == str(request_id))).one()
    return state, events, audits


def test_illegal_transition_is_refused_and_nothing_is_written(engine, received_request):
    with pytest.raises(RequestChangeRefused) as caught, transaction(engine) as session:
        request = session.get(Request, received_request)
        transition_request(session, request, RequestState.APPOINTED, CLERK, "book it")
    assert "cannot go from 'received' to 'appointed'" in str(caught.value)
    assert isinstance(caught.value.__cause__, IllegalTransition)
    assert written(engine, received_request) == (RequestState.RECEIVED, 0, 0)


def test_legal_transition_records_actor_states_and_reason(engine, received_request):
    with transaction(engine) as session:
        request = session.get(Request, received_request)
        transition_request(session, request, RequestState.CANCELLED, CLERK, "patient moved away")
    with transaction(engine) as session:
        event = session.exec(select(RequestEvent)).one()
        audit = session.exec(select(AuditEvent)).one()
    assert (event.actor, event.from_state, event.to_state, event.reason) == (
        "clerk:jsmith", RequestState.RECEIVED, RequestState.CANCELLED, "patient moved away")
    assert event.at is not None
    assert (audit.action, audit.before, audit.after) == (
        "request.transition", {"state": "received"}, {"state": "cancelled"})


def test_cancelling_needs_a_reason(engine, received_request):
    with pytest.raises(RequestChangeRefused, match="needs a reason"), \
            transaction(engine) as session:
        transition_request(session, session.get(Request, received_request),
                           RequestState.CANCELLED, CLERK, "  ")
    assert written(engine, received_request) == (RequestState.RECEIVED, 0, 0)


def test_justifying_records_the_protocol_and_the_rules_place_the_request(engine,
                                                                        received_request):
    with transaction(engine) as session:
        result = justify_request(session, received_request, CT_WITH_CONTRAST, RADIOLOGIST,
                                 TODAY)
    assert [v.rule_id for v in result.pending] == ["contrast-egfr-recent"]
    with transaction(engine) as session:
        request = session.get(Request, received_request)
        events = session.exec(select(RequestEvent).order_by(RequestEvent.id)).all()
    assert (request.state, request.protocol, request.vetted_by) == (
        RequestState.WAITING, "CT AP portal venous", "radiologist:akhan")
    assert [(e.actor, e.from_state, e.to_state) for e in events] == [
        ("radiologist:akhan", RequestState.RECEIVED, RequestState.JUSTIFIED),
        ("system:rules", RequestState.JUSTIFIED, RequestState.WAITING)]
    assert events[1].reason == ("rules appointability v2026.12.1: waiting "
                                "(contrast-egfr-recent)")


def test_a_clerk_cannot_vet(engine, received_request):
    with pytest.raises(RequestChangeRefused, match="vetting needs one of the roles"), \
            transaction(engine) as session:
        justify_request(session, received_request, CT_WITH_CONTRAST, CLERK, TODAY)
    assert written(engine, received_request) == (RequestState.RECEIVED, 0, 0)


def test_justifying_to_an_unknown_exam_is_refused(engine, received_request):
    unknown = VettingProtocol(exam_code="NOPE", protocol="x", contrast=False, sedation=False,
                              priority=Priority.ROUTINE)
    with pytest.raises(RequestChangeRefused, match="exam_code: exam type 'NOPE'"), \
            transaction(engine) as session:
        justify_request(session, received_request, unknown, RADIOLOGIST, TODAY)
    assert written(engine, received_request) == (RequestState.RECEIVED, 0, 0)


def test_rejecting_needs_a_reason(engine, received_request):
    with pytest.raises(RequestChangeRefused, match="a rejection needs a reason"), \
            transaction(engine) as session:
        reject_request(session, received_request, "   ", RADIOLOGIST)
    assert written(engine, received_request) == (RequestState.RECEIVED, 0, 0)


def test_rejecting_records_the_reason_for_the_referrer(engine, received_request):
    with transaction(engine) as session:
        reject_request(session, received_request, "ultrasound first", RADIOLOGIST)
    with transaction(engine) as session:
        request = session.get(Request, received_request)
        event = session.exec(select(RequestEvent)).one()
    assert (request.state, request.vetting_note) == (RequestState.REJECTED, "ultrasound first")
    assert (event.to_state, event.reason) == (RequestState.REJECTED, "ultrasound first")
