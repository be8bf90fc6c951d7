"""Sending a patient's questionnaire answers: kept as given, turned into request facts whose
`recorded_by` names the response they came from, audited, and the request re-evaluated by
the rules in the same transaction, so answering moves it by itself (to appointable, or held
back for a radiographer's review)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from booking_api.audit.services import Actor, record_audit
from booking_api.core.db import Database
from booking_api.questionnaires.models import QuestionnaireResponse
from booking_api.questionnaires.read_models import QUESTIONS_OPEN_STATES, REVIEW_RULES
from booking_api.requests.rule_facts import encode_fact
from booking_api.requests.rules_models import RequestFact
from booking_api.requests.services import get_request, reevaluate_request
from domain.lifecycle import RequestState
from domain.questionnaires import Questionnaire


class AnswersRefused(ValueError):
    """Answers that cannot be taken (not this patient's request, already answered, a
    question without an answer); nothing was written."""


@dataclass(frozen=True)
class AnswersTaken:
    """What the answers did to the request."""

    response_id: int
    state: RequestState
    review_needed: bool
    """A rule now holds the request for a radiographer's or radiologist's review."""

    @property
    def bookable(self) -> bool:
        return self.state is RequestState.APPOINTABLE


def submit_answers(db: Database, patient_id: int, request_id: int,
                   questionnaire: Questionnaire, answers: Mapping[str, str], actor: Actor,
                   today: date | None = None) -> AnswersTaken:
    """Record the answers (AnswersRefused if they cannot be taken) in one transaction."""
    with db.transaction() as session:
        return record_answers(session, patient_id, request_id, questionnaire, answers, actor,
                              today)


def record_answers(session: Session, patient_id: int, request_id: int,
                   questionnaire: Questionnaire, answers: Mapping[str, str], actor: Actor,
                   today: date | None = None) -> AnswersTaken:
    """The same, in the caller's transaction."""
    request = get_request(session, request_id, for_update=True)
    if request.patient_id != patient_id:
        raise AnswersRefused(f"request {request_id} is not patient {patient_id}'s")
    if RequestState(request.state) not in QUESTIONS_OPEN_STATES:
        raise AnswersRefused(f"request {request_id} is {request.state}: it takes no answers")
    if _already_answered(session, request_id, questionnaire):
        raise AnswersRefused(f"the {questionnaire.title} for request {request_id} are "
                             "already answered")
    try:
        facts = questionnaire.facts(answers)
    except ValueError as error:
        raise AnswersRefused(str(error)) from error
    kept = {q.question_id: answers[q.question_id] for q in questionnaire.questions}
    response = QuestionnaireResponse(
        request_id=request_id, patient_id=patient_id, questionnaire=questionnaire.name.value,
        version=questionnaire.version, answers=kept, answered_by=actor.name,
        channel=actor.channel)
    session.add(response)
    session.flush()
    source = f"{actor.name} ({questionnaire.name.value} questionnaire #{response.id})"
    session.add_all(RequestFact(request_id=request_id, name=name,
                                value=encode_fact(name, value), recorded_by=source)
                    for name, value in facts.items())
    record_audit(session, actor, "request.questionnaire", "request", request_id,
                 after={"questionnaire": questionnaire.name.value,
                        "version": questionnaire.version, "response_id": response.id,
                        "answers": kept, "facts": facts})
    session.flush()
    result = reevaluate_request(session, request, today)
    review = any(v.rule_id in REVIEW_RULES for v in result.failures)
    assert response.id is not None
    return AnswersTaken(response.id, RequestState(request.state), review)


def _already_answered(session: Session, request_id: int, questionnaire: Questionnaire) -> bool:
    return session.exec(select(QuestionnaireResponse.id).where(
        QuestionnaireResponse.request_id == request_id,
        QuestionnaireResponse.questionnaire == questionnaire.name.value)).first() is not None
