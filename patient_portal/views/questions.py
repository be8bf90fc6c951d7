"""Health questions before booking (MRI safety, contrast), NHS.UK style: a page explaining
why, one question a page, check your answers, then the answers sent to booking_api, which
records them as request facts and lets the rules move the request. Answers in progress stay
in this browser's session until sent; nothing is recorded before the patient sends them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.questionnaires.flows import AnswersRefused, submit_answers
from domain.questionnaires import ANSWERS, Questionnaire, questionnaire_named
from patient_portal.forms import FormData, posted_form, text_fields, text_of
from patient_portal.once import submit_once
from patient_portal.question_gate import AnswersBeingReviewed, QuestionsDue, questions_of
from patient_portal.rendering import LONDON, render
from patient_portal.security import portal_session
from patient_portal.signed_in import PortalPatient, SignedInPatient, now_of
from patient_portal.views.common import database, see_other

router = APIRouter(include_in_schema=False)
Form = Annotated[FormData, Depends(posted_form)]
REVIEWER_WORDS = {"radiographer": "an MRI radiographer", "radiologist": "a radiologist"}


def add_question_pages(app: FastAPI) -> None:
    """The routes, and the pages shown instead of booking while questions are due or under
    review."""
    app.include_router(router)
    app.add_exception_handler(QuestionsDue, lambda _request, _error: see_other("/questions"))
    app.add_exception_handler(AnswersBeingReviewed, _being_reviewed)


@router.get("/questions", response_class=HTMLResponse)
def start(request: Request, patient: SignedInPatient) -> Response:
    questions = questions_of(request, patient)
    if questions.review_pending:
        return _being_reviewed(request, AnswersBeingReviewed(questions.reviewers))
    if not questions.due:
        return see_other("/your-test")
    due = [questionnaire_named(name.value) for name in questions.due]
    first = due[0]
    return render(request, "portal/questions/start.jinja", {
        "due": due, "first_href": _question_href(first, first.questions[0].question_id)})


@router.get("/questions/{name}/check", response_class=HTMLResponse)
def check_page(request: Request, name: str, patient: SignedInPatient) -> Response:
    questionnaire = _due(request, patient, name)
    if questionnaire is None:
        return see_other("/questions")
    answers = _drafts(request, questionnaire)
    if not questionnaire.complete(answers):
        return see_other(_first_unanswered(questionnaire, answers))
    return render(request, "portal/questions/check.jinja", {
        "questionnaire": questionnaire, "answers": answers,
        "back_href": _question_href(questionnaire, questionnaire.questions[-1].question_id)})


@router.post("/questions/{name}/check", response_class=HTMLResponse)
def send(request: Request, name: str, patient: SignedInPatient, form: Form) -> Response:
    questionnaire = _due(request, patient, name)
    if questionnaire is None:
        return see_other("/questions")
    return submit_once(request, patient, text_fields(form), success="/questions/sent",
                       action=lambda: _send(request, patient, questionnaire))


@router.get("/questions/sent", response_class=HTMLResponse)
def sent(request: Request, patient: SignedInPatient) -> Response:
    """Where sending leads: more questions, the review page, or booking."""
    questions = questions_of(request, patient)
    if questions.review_pending:
        return _being_reviewed(request, AnswersBeingReviewed(questions.reviewers))
    if questions.due:
        return see_other("/questions")
    return render(request, "portal/questions/sent.jinja", {})


@router.get("/questions/{name}/{question_id}", response_class=HTMLResponse)
def question_page(request: Request, name: str, question_id: str,
                  patient: SignedInPatient) -> Response:
    questionnaire = _due(request, patient, name)
    if questionnaire is None or question_id not in _ids(questionnaire):
        return see_other("/questions")
    return _question(request, questionnaire, question_id, {})


@router.post("/questions/{name}/{question_id}", response_class=HTMLResponse)
def answer(request: Request, name: str, question_id: str, patient: SignedInPatient,
           form: Form) -> Response:
    questionnaire = _due(request, patient, name)
    if questionnaire is None or question_id not in _ids(questionnaire):
        return see_other("/questions")
    value = text_of(form, "answer")
    if value not in ANSWERS:
        return _question(request, questionnaire, question_id,
                         {"answer": questionnaire.question(question_id).error})
    drafts = _drafts(request, questionnaire)
    drafts[question_id] = value
    following = questionnaire.next_after(question_id)
    if request.query_params.get("change") == "1" or following is None:
        return see_other(f"/questions/{questionnaire.name.value}/check")
    return see_other(_question_href(questionnaire, following.question_id))


def _send(request: Request, patient: PortalPatient, questionnaire: Questionnaire) -> Response:
    answers = _drafts(request, questionnaire)
    try:
        submit_answers(database(request), patient.patient_id, patient.request_id,
                       questionnaire, answers, patient.principal.actor,
                       now_of(request).astimezone(LONDON).date())
    except AnswersRefused:
        return see_other("/questions")
    portal_session(request).get("answers", {}).pop(questionnaire.name.value, None)
    return see_other("/questions/sent")


def _question(request: Request, questionnaire: Questionnaire, question_id: str,
              errors: dict[str, str]) -> Response:
    question = questionnaire.question(question_id)
    before = questionnaire.before(question_id)
    changing = request.query_params.get("change") == "1"
    back = (f"/questions/{questionnaire.name.value}/check" if changing
            else _question_href(questionnaire, before.question_id) if before else "/questions")
    return render(request, "portal/questions/question.jinja", {
        "questionnaire": questionnaire, "question": question,
        "number": _ids(questionnaire).index(question_id) + 1,
        "chosen": _drafts(request, questionnaire).get(question_id),
        "action": request.url.path + ("?change=1" if changing else ""),
        "back_href": back}, errors=errors)


def _due(request: Request, patient: PortalPatient, name: str) -> Questionnaire | None:
    """The questionnaire, when it is one this patient still has to answer."""
    try:
        questionnaire = questionnaire_named(name)
    except KeyError:
        return None
    return questionnaire if questionnaire.name in questions_of(request, patient).due else None


def _drafts(request: Request, questionnaire: Questionnaire) -> dict[str, str]:
    every = portal_session(request).setdefault("answers", {})
    return every.setdefault(questionnaire.name.value, {})


def _ids(questionnaire: Questionnaire) -> list[str]:
    return [q.question_id for q in questionnaire.questions]


def _question_href(questionnaire: Questionnaire, question_id: str) -> str:
    return f"/questions/{questionnaire.name.value}/{question_id}"


def _first_unanswered(questionnaire: Questionnaire, answers: dict[str, str]) -> str:
    missing = next(q for q in questionnaire.questions if answers.get(q.question_id) not in ANSWERS)
    return _question_href(questionnaire, missing.question_id)


def _being_reviewed(request: Request, error: Exception) -> Response:
    reviewers = getattr(error, "reviewers", ("radiographer",))
    who = " and ".join(REVIEWER_WORDS.get(r, r) for r in reviewers)
    return render(request, "portal/questions/review.jinja", {"who": who})
