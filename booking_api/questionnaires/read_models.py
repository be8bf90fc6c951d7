"""What the portal needs to know about a patient's questionnaires: which are still to
answer for the request they signed in for, and whether their answers hold the request for
a clinician's review (the page then says who will contact them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from booking_api.core.db import Database
from booking_api.network.models import ExamType
from booking_api.questionnaires.models import QuestionnaireResponse
from booking_api.requests.models import Request
from booking_api.requests.rule_facts import recorded_facts, request_facts, request_overrides
from booking_api.requests.services import today_in_london
from domain.lifecycle import RequestState
from domain.questionnaires import QUESTIONNAIRES, Questionnaire, QuestionnaireName
from slot_rules.loading import shipped_appointability

QUESTIONS_OPEN_STATES = frozenset({RequestState.RECEIVED, RequestState.JUSTIFIED,
                                   RequestState.WAITING, RequestState.APPOINTABLE})
"""Requests a patient may still answer questions for (not yet booked, still wanted)."""

REVIEW_RULES = {"mri-safety-review": "radiographer", "contrast-reaction": "radiologist"}
"""Rules that fail on a patient's answer, and who reviews it with the patient."""


@dataclass(frozen=True)
class PatientQuestions:
    due: tuple[QuestionnaireName, ...]
    """Questionnaires to answer before the test can be booked, in the order to ask them."""
    reviewers: tuple[str, ...]
    """Who will contact the patient about their answers ('radiographer'...); empty when no
    answer holds the request."""

    @property
    def review_pending(self) -> bool:
        return bool(self.reviewers)


def patient_questions(db: Database, patient_id: int, request_id: int,
                      today: date | None = None) -> PatientQuestions:
    """The patient's questionnaires for this request (none when it is not theirs)."""
    with db.reading() as session:
        request = session.get(Request, request_id)
        if request is None or request.patient_id != patient_id:
            return PatientQuestions((), ())
        return questions_of(session, request, today or today_in_london())


def questions_of(session: Session, request: Request, today: date) -> PatientQuestions:
    state = RequestState(request.state)
    if state not in QUESTIONS_OPEN_STATES:
        return PatientQuestions((), ())
    assert request.id is not None
    facts = request_facts(session, request, today)
    recorded = recorded_facts(session, request.id)
    answered = set(session.exec(select(QuestionnaireResponse.questionnaire).where(
        QuestionnaireResponse.request_id == request.id)).all())
    due = tuple(q.name for q in QUESTIONNAIRES.values()
                if _applies(q, facts) and q.name.value not in answered
                and not _on_record(q, recorded))
    result = shipped_appointability().evaluate(facts, today,
                                               request_overrides(session, request.id))
    reviewers = tuple(REVIEW_RULES[v.rule_id] for v in result.failures
                      if v.rule_id in REVIEW_RULES)
    return PatientQuestions(due, reviewers)


def _applies(questionnaire: Questionnaire, facts: dict[str, object]) -> bool:
    if questionnaire.name is QuestionnaireName.MRI_SAFETY:
        return facts.get("modality") == "MR"
    return facts.get("has_contrast") is True


def _on_record(questionnaire: Questionnaire, recorded: dict[str, object]) -> bool:
    """Staff have already recorded what the questionnaire would (a paper form, a call)."""
    if questionnaire.returned_fact:
        return questionnaire.returned_fact in recorded
    return all(q.fact in recorded for q in questionnaire.questions if q.fact)


@dataclass(frozen=True)
class AnswersToReview:
    """A request held by a patient's answer until a clinician has talked to them."""

    request_id: int
    exam_name: str
    reviewers: tuple[str, ...]
    answered_at: datetime


REVIEW_LIST_LIMIT = 100


def answers_to_review(db: Database, today: date | None = None,
                      limit: int = REVIEW_LIST_LIMIT) -> tuple[AnswersToReview, ...]:
    """Requests whose patient's answers a radiographer or radiologist must review before
    booking, oldest answers first: those the review rules fail on now (an override or a
    recorded review clears them)."""
    on = today or today_in_london()
    with db.reading() as session:
        candidates = session.exec(
            select(Request, ExamType.name, func.min(QuestionnaireResponse.answered_at))
            .join(QuestionnaireResponse, QuestionnaireResponse.request_id == Request.id)
            .join(ExamType, ExamType.code == Request.exam_code)
            .where(col(Request.state).in_((RequestState.JUSTIFIED, RequestState.WAITING)))
            .group_by(Request.id, ExamType.name)
            .order_by(func.min(QuestionnaireResponse.answered_at), Request.id)).all()
        rows = []
        for request, exam_name, answered_at in candidates:
            reviewers = questions_of(session, request, on).reviewers
            if reviewers:
                assert request.id is not None
                rows.append(AnswersToReview(request.id, exam_name, reviewers, answered_at))
            if len(rows) >= limit:
                break
        return tuple(rows)
