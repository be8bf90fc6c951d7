"""Judging many requests at once (a backfill wave's candidates) gives each the verdicts it
gets alone: its own protocol, patient, latest facts and overrides, never a neighbour's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from booking_api.core.db import transaction
from booking_api.patients.models import Patient
from booking_api.requests.flows import justify_request, record_request_fact, record_rule_override
from booking_api.requests.models import Request
from booking_api.requests.services import evaluate_request, evaluate_requests
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from tests.booking_api.request_rules.conftest import CLERK, RADIOLOGIST, TODAY
from tests.booking_api.request_rules.test_request_rules import CT_WITH_CONTRAST, MRI_BRAIN


def _second_request(engine) -> int:
    with transaction(engine) as session:
        patient = Patient(given_name="Other", family_name="Patient",
                          date_of_birth=date(2015, 3, 2), postcode_district="B15",
                          area_id="B15", email="other@example.com")
        session.add(patient)
        session.flush()
        request = Request(patient_id=patient.id, exam_code="CABPC", priority=Priority.URGENT,
                          state=RequestState.RECEIVED,
                          received_at=datetime(2027, 1, 30, 9, 0, tzinfo=UTC),
                          referrer="GP", booking_reference="JK3D-PNJE-ND")
        session.add(request)
        session.flush()
        return request.id


def test_requests_judged_together_get_the_verdicts_each_gets_alone(engine, received_request):
    other = _second_request(engine)
    with transaction(engine) as session:
        justify_request(session, received_request, MRI_BRAIN, RADIOLOGIST, TODAY)
        justify_request(session, other, CT_WITH_CONTRAST, RADIOLOGIST, TODAY)
        record_request_fact(session, received_request, "mr_unsafe_implant", False, CLERK, TODAY)
        record_rule_override(session, received_request, "mri-safety-questionnaire",
                             "radiologist", "screened on the ward", RADIOLOGIST, today=TODAY)
        record_request_fact(session, other, "diabetes", True, CLERK, TODAY)
        record_request_fact(session, other, "egfr_date", TODAY - timedelta(days=400), CLERK,
                            TODAY)
        record_request_fact(session, other, "egfr_date", TODAY - timedelta(days=10), CLERK,
                            TODAY)
    with transaction(engine) as session:
        requests = [session.get(Request, received_request), session.get(Request, other)]
        together = evaluate_requests(session, requests, TODAY)
        alone = {r.id: evaluate_request(session, r, TODAY) for r in requests}

    assert together == alone
    assert {r: v.outcome for r, v in together.items()} == {received_request: "appointable",
                                                          other: "appointable"}
