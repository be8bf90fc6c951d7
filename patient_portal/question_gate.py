"""Booking waits for health questions: a request whose questionnaires are still to answer
sends the patient to them, and one whose answers are under a clinician's review shows who
will contact them instead of the booking pages."""

from __future__ import annotations

from fastapi import Request

from booking_api.core.app_state import database_of
from booking_api.questionnaires.read_models import PatientQuestions, patient_questions
from patient_portal.rendering import LONDON
from patient_portal.signed_in import PortalPatient, now_of


class QuestionsDue(Exception):
    """The patient must answer health questions before this test can be booked."""


class AnswersBeingReviewed(Exception):
    """An answer holds the request until a clinician has talked to the patient."""

    def __init__(self, reviewers: tuple[str, ...]) -> None:
        super().__init__(", ".join(reviewers))
        self.reviewers = reviewers


def questions_of(request: Request, patient: PortalPatient) -> PatientQuestions:
    return patient_questions(database_of(request.app), patient.patient_id, patient.request_id,
                             now_of(request).astimezone(LONDON).date())


def check_questions(request: Request, patient: PortalPatient) -> None:
    """Raise AnswersBeingReviewed or QuestionsDue when booking must wait for them."""
    questions = questions_of(request, patient)
    if questions.review_pending:
        raise AnswersBeingReviewed(questions.reviewers)
    if questions.due:
        raise QuestionsDue()
