"""What a patient says they need is recorded where the rules read it: step-free access and a
hoist on the patient (slot eligibility checks them against each site), an interpreter and
transport flagged for the clerk, and a chaperone, asked only for an intimate examination,
as a fact of the request. Every change is audited with the before and after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from booking_api.access.principals import PatientPrincipal
from booking_api.audit.models import AuditEvent
from booking_api.core.db import transaction
from booking_api.needs.flows import NeedsRefused, needs_on_record, record_needs
from booking_api.requests.models import Request
from booking_api.requests.services import evaluate_request
from booking_api.slots.eligibility import load_request_facts, slot_request_for
from domain.patient_needs import PatientNeeds
from tests.booking_api.patient_answers.conftest import TODAY


def tell(db, ids, needs):
    patient_id, request_id = ids
    record_needs(db, patient_id, request_id, needs,
                 PatientPrincipal(patient_id, request_id, frozenset()).actor)


def test_step_free_access_and_a_hoist_reach_the_slot_rules(engine, db, patient_requests):
    tell(db, patient_requests["XCHES"], PatientNeeds(step_free=True, hoist=True))
    with transaction(engine) as session:
        wanted = slot_request_for(load_request_facts(session, patient_requests["XCHES"][1]),
                                  datetime.now(UTC))
    assert wanted.needs_step_free and wanted.needs_hoist


def test_an_interpreter_and_transport_are_flagged_for_the_clerk(engine, db, patient_requests):
    tell(db, patient_requests["XCHES"], PatientNeeds(interpreter_language="Polish",
                                                     transport=True))
    with transaction(engine) as session:
        result = evaluate_request(session, session.get(Request, patient_requests["XCHES"][1]),
                                  TODAY)
    assert result.notes == (
        "Interpreter needed (language: Polish); book one with the appointment",
        "Hospital transport needed; arrange it with the appointment")


def test_a_chaperone_is_offered_and_flagged_for_an_intimate_examination(engine, db,
                                                                        patient_requests):
    assert needs_on_record(db, *patient_requests["UPELV"]).chaperone_offered
    assert not needs_on_record(db, *patient_requests["XCHES"]).chaperone_offered
    tell(db, patient_requests["UPELV"], PatientNeeds(chaperone=True))
    with transaction(engine) as session:
        result = evaluate_request(session, session.get(Request, patient_requests["UPELV"][1]),
                                  TODAY)
    assert "The patient asked for a chaperone; book one with the appointment" in result.notes
    assert needs_on_record(db, *patient_requests["UPELV"]).needs.chaperone


def test_needs_told_again_replace_the_old_ones_and_each_change_is_audited(engine, db,
                                                                          patient_requests):
    tell(db, patient_requests["XCHES"], PatientNeeds(step_free=True))
    tell(db, patient_requests["XCHES"], PatientNeeds(transport=True))
    assert needs_on_record(db, *patient_requests["XCHES"]).needs == PatientNeeds(transport=True)
    with transaction(engine) as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.needs")
                              .order_by(AuditEvent.id)).all()
    assert [a.before["step_free"] for a in audits] == [False, True]
    assert audits[-1].after["transport"] is True and audits[-1].channel == "portal"


def test_needs_for_another_patients_request_are_refused(db, patient_requests):
    patient_id, request_id = patient_requests["XCHES"]
    with pytest.raises(NeedsRefused, match="is not patient"):
        record_needs(db, patient_id + 1000, request_id, PatientNeeds(hoist=True),
                     PatientPrincipal(patient_id + 1000, request_id, frozenset()).actor)
    assert needs_on_record(db, patient_id, request_id).needs == PatientNeeds()


@pytest.mark.parametrize("language", ["", "  ", "x" * 51])
def test_an_interpreter_language_must_be_named_and_short(language):
    with pytest.raises(ValueError, match="interpreter_language"):
        PatientNeeds(interpreter_language=language)
