"""A patient's questionnaire answers become request facts with their source, and the rules
move the request by themselves: safe answers make it appointable, an answer that may be
unsafe holds it for a radiographer (or radiologist) and says so."""

from __future__ import annotations

import pytest
from sqlmodel import select

from booking_api.access.principals import PatientPrincipal
from booking_api.audit.models import AuditEvent
from booking_api.core.db import transaction
from booking_api.questionnaires.flows import AnswersRefused, record_answers, submit_answers
from booking_api.questionnaires.models import QuestionnaireResponse
from booking_api.questionnaires.read_models import answers_to_review, patient_questions
from booking_api.requests.flows import record_request_fact
from booking_api.requests.models import Request
from booking_api.requests.rules_models import RequestFact
from booking_api.requests.services import evaluate_request
from domain.lifecycle import RequestState
from domain.questionnaires import CONTRAST, MRI_SAFETY, QuestionnaireName
from tests.booking_api.patient_answers.conftest import RADIOGRAPHER, TODAY

ALL_NO_MRI = {q.question_id: "no" for q in MRI_SAFETY.questions}
ALL_NO_CONTRAST = {q.question_id: "no" for q in CONTRAST.questions}


def actor_of(patient_id):
    return PatientPrincipal(patient_id, 0, frozenset()).actor


def state_of(engine, request_id):
    with transaction(engine) as session:
        return RequestState(session.get(Request, request_id).state)


def answer(db, ids, questionnaire, answers):
    patient_id, request_id = ids
    return submit_answers(db, patient_id, request_id, questionnaire, answers,
                          actor_of(patient_id), TODAY)


def test_an_mri_request_waits_for_the_patients_safety_questions(engine, db, patient_requests):
    patient_id, request_id = patient_requests["MBRAI"]
    assert state_of(engine, request_id) is RequestState.WAITING
    due = patient_questions(db, patient_id, request_id, TODAY)
    assert due.due == (QuestionnaireName.MRI_SAFETY,)


def test_safe_mri_answers_make_the_request_appointable_by_themselves(engine, db,
                                                                     patient_requests):
    taken = answer(db, patient_requests["MBRAI"], MRI_SAFETY, ALL_NO_MRI)
    assert taken.bookable and not taken.review_needed
    assert state_of(engine, patient_requests["MBRAI"][1]) is RequestState.APPOINTABLE
    assert patient_questions(db, *patient_requests["MBRAI"], TODAY).due == ()


def test_an_unsafe_mri_answer_holds_the_request_for_a_radiographer(engine, db,
                                                                   patient_requests):
    taken = answer(db, patient_requests["MBRAI"], MRI_SAFETY, {**ALL_NO_MRI, "pacemaker": "yes"})
    assert taken.review_needed and not taken.bookable
    assert state_of(engine, patient_requests["MBRAI"][1]) is RequestState.WAITING
    questions = patient_questions(db, *patient_requests["MBRAI"], TODAY)
    assert questions.due == () and questions.reviewers == ("radiographer",)


def test_the_radiographer_clears_the_answers_and_the_request_becomes_appointable(
        engine, db, patient_requests):
    request_id = patient_requests["MBRAI"][1]
    answer(db, patient_requests["MBRAI"], MRI_SAFETY, {**ALL_NO_MRI, "implant": "yes"})
    with transaction(engine) as session:
        record_request_fact(session, request_id, "mr_unsafe_implant", False, RADIOGRAPHER, TODAY)
        result = record_request_fact(session, request_id, "mri_safety_review_needed", False,
                                     RADIOGRAPHER, TODAY)
    assert result.outcome == "appointable"
    assert state_of(engine, request_id) is RequestState.APPOINTABLE


def test_answers_are_kept_as_given_and_facts_name_their_source(engine, db, patient_requests):
    patient_id, request_id = patient_requests["MBRAI"]
    taken = answer(db, patient_requests["MBRAI"], MRI_SAFETY,
                   {**ALL_NO_MRI, "metal-in-eyes": "yes"})
    with transaction(engine) as session:
        response = session.get(QuestionnaireResponse, taken.response_id)
        facts = session.exec(select(RequestFact).where(RequestFact.request_id == request_id)
                             ).all()
        audit = session.exec(select(AuditEvent).where(
            AuditEvent.action == "request.questionnaire")).one()
    assert response.answers["metal-in-eyes"] == "yes" and response.version == MRI_SAFETY.version
    assert {f.name: f.value["value"] for f in facts} == {
        "mri_questionnaire_returned": True, "mri_safety_review_needed": True}
    source = f"patient:{patient_id} (mri-safety questionnaire #{taken.response_id})"
    assert {f.recorded_by for f in facts} == {source}
    assert audit.actor == f"patient:{patient_id}" and audit.channel == "portal"


def test_contrast_answers_without_a_risk_make_the_contrast_ct_appointable(engine, db,
                                                                          patient_requests):
    assert state_of(engine, patient_requests["CCHEC"][1]) is RequestState.WAITING
    taken = answer(db, patient_requests["CCHEC"], CONTRAST, ALL_NO_CONTRAST)
    assert taken.bookable


def test_diabetes_sends_the_contrast_ct_to_wait_for_a_recent_egfr(engine, db, patient_requests):
    answer(db, patient_requests["CCHEC"], CONTRAST, {**ALL_NO_CONTRAST, "diabetes": "yes"})
    with transaction(engine) as session:
        result = evaluate_request(session, session.get(Request, patient_requests["CCHEC"][1]),
                                  TODAY)
    assert [v.rule_id for v in result.pending] == ["contrast-egfr-recent"]


def test_a_previous_contrast_reaction_needs_a_radiologist(db, patient_requests):
    taken = answer(db, patient_requests["CCHEC"], CONTRAST,
                   {**ALL_NO_CONTRAST, "contrast-reaction": "yes"})
    assert taken.review_needed
    assert patient_questions(db, *patient_requests["CCHEC"], TODAY).reviewers == ("radiologist",)


def test_a_chest_xray_asks_no_questions(db, patient_requests):
    assert patient_questions(db, *patient_requests["XCHES"], TODAY).due == ()


@pytest.mark.parametrize(("case", "problem"), [
    ("incomplete", "no answer to recent-operation"),
    ("again", "already answered"),
    ("not-theirs", "is not patient"),
    ("not-an-answer", "no answer to pacemaker"),
])
def test_answers_that_cannot_be_taken_are_refused_and_change_nothing(engine, db,
                                                                     patient_requests,
                                                                     case, problem):
    patient_id, request_id = patient_requests["MBRAI"]
    answers = dict(ALL_NO_MRI)
    if case == "incomplete":
        del answers["recent-operation"]
    if case == "again":
        answer(db, patient_requests["MBRAI"], MRI_SAFETY, ALL_NO_MRI)
    if case == "not-theirs":
        patient_id += 1000
    if case == "not-an-answer":
        answers["pacemaker"] = "maybe"
    with transaction(engine) as session:
        before = len(session.exec(select(RequestFact)).all())
    with pytest.raises(AnswersRefused, match=problem), transaction(engine) as session:
        record_answers(session, patient_id, request_id, MRI_SAFETY, answers,
                       actor_of(patient_id), TODAY)
    with transaction(engine) as session:
        assert len(session.exec(select(RequestFact)).all()) == before


def test_answers_to_review_are_listed_until_the_radiographer_records_the_outcome(
        engine, db, patient_requests):
    request_id = patient_requests["MBRAI"][1]
    answer(db, patient_requests["MBRAI"], MRI_SAFETY, {**ALL_NO_MRI, "pacemaker": "yes"})
    answer(db, patient_requests["CCHEC"], CONTRAST, ALL_NO_CONTRAST)
    listed = answers_to_review(db, TODAY)
    assert [(r.request_id, r.reviewers) for r in listed] == [(request_id, ("radiographer",))]
    with transaction(engine) as session:
        record_request_fact(session, request_id, "mri_safety_review_needed", False,
                            RADIOGRAPHER, TODAY)
    assert answers_to_review(db, TODAY) == ()
