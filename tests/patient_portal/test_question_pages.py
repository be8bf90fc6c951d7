"""Health questions in the portal: a patient whose test needs them is sent to them, answers
one question a page, checks the answers and sends them; safe answers open booking, an
answer that may be unsafe keeps booking closed and says who will contact them. Each error
names its field (the error summary links to it)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from domain.questionnaires import CONTRAST, MRI_SAFETY
from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import PortalWorld
from tests.patient_portal.question_world import add_questioned_patient, request_state


@pytest.fixture
def pages(client: TestClient) -> PageClient:
    return PageClient(client)


def answer_all(pages: PageClient, questionnaire, yes: frozenset[str] = frozenset()) -> None:
    for question in questionnaire.questions:
        path = f"/questions/{questionnaire.name.value}/{question.question_id}"
        pages.get(path)
        pages.post(path, {"answer": "yes" if question.question_id in yes else "no"})


def test_a_patient_whose_mri_needs_the_safety_questions_is_sent_to_them(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 1, "MBRAI")
    response = pages.sign_in(login)
    assert response.url.path == "/questions"
    assert "Before you book: questions about your health" in pages.title()
    assert "MRI safety questions" in response.text
    assert pages.get("/site").url.path == "/questions"


def test_a_question_sent_without_an_answer_is_shown_again_naming_the_field(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 2, "MBRAI")
    pages.sign_in(login)
    pages.get("/questions/mri-safety/pacemaker")
    response = pages.post("/questions/mri-safety/pacemaker", {})
    assert response.status_code == 422
    assert pages.title().startswith("Error: ")
    assert 'href="#answer"' in response.text
    assert "Select yes if you have a heart pacemaker, defibrillator or loop recorder" \
        in response.text


def test_safe_answers_checked_and_sent_open_booking(pages: PageClient,
                                                   portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 3, "MBRAI")
    pages.sign_in(login)
    answer_all(pages, MRI_SAFETY)
    assert pages.last.url.path == "/questions/mri-safety/check"
    assert "Check your answers before sending them" in pages.title()
    response = pages.post("/questions/mri-safety/check", {})
    assert response.url.path == "/questions/sent"
    assert request_state(portal_world, login) == "appointable"
    assert pages.get("/your-test").url.path == "/your-test"


def test_an_unsafe_mri_answer_keeps_booking_closed_and_says_who_will_contact(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 4, "MBRAI")
    pages.sign_in(login)
    answer_all(pages, MRI_SAFETY, yes=frozenset({"metal-in-eyes"}))
    response = pages.post("/questions/mri-safety/check", {})
    assert "We need to talk to you before you book" in response.text
    assert "An MRI radiographer from the imaging department will contact you" in response.text
    assert request_state(portal_world, login) == "waiting"
    for path in ("/your-test", "/site", "/date", "/questions/mri-safety/pacemaker"):
        assert "We need to talk to you before you book" in pages.get(path).text


def test_changing_an_answer_from_the_check_page_comes_back_to_it(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 5, "CCHEC")
    pages.sign_in(login)
    answer_all(pages, CONTRAST)
    pages.get("/questions/contrast/diabetes?change=1")
    response = pages.post("/questions/contrast/diabetes?change=1", {"answer": "yes"})
    assert response.url.path == "/questions/contrast/check"
    pages.post("/questions/contrast/check", {})
    assert request_state(portal_world, login) == "waiting"  # diabetes: an eGFR is needed


def test_the_check_page_waits_until_every_question_is_answered(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 6, "CCHEC")
    pages.sign_in(login)
    pages.get("/questions/contrast/diabetes")
    pages.post("/questions/contrast/diabetes", {"answer": "no"})
    assert pages.get("/questions/contrast/check").url.path == \
        "/questions/contrast/kidney-problems"


def test_a_chest_xray_patient_is_not_asked_questions(pages: PageClient,
                                                     portal_world: PortalWorld) -> None:
    pages.sign_in(portal_world.patients[11])
    assert pages.get("/questions").url.path == "/your-test"
