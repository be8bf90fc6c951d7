"""Health questions in Chromium at 320 px, with the keyboard alone, axe-core finding nothing
on any page: the MRI safety questions with an answer that may be unsafe (booking stays
closed, the page says who will contact the patient), and the contrast questions answered
safely (booking opens)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from domain.questionnaires import CONTRAST, MRI_SAFETY, Questionnaire
from tests.patient_portal.browser_support import LiveServer
from tests.patient_portal.conftest import new_context
from tests.patient_portal.keyboard import choose_radio, press_enter_on, tab_to
from tests.patient_portal.portal_visit import PortalVisit
from tests.patient_portal.portal_world import PortalPatientLogin, PortalWorld
from tests.patient_portal.question_world import add_questioned_patient, request_state

CONTINUE = 'button[type="submit"]'


def sign_in_by_keyboard(visit: PortalVisit, login: PortalPatientLogin) -> None:
    page = visit.page
    page.goto("/sign-in")
    tab_to(page, "#booking-reference")
    page.keyboard.type(login.booking_reference)
    born = login.date_of_birth
    for part, value in (("day", born.day), ("month", born.month), ("year", born.year)):
        tab_to(page, f"#date-of-birth-{part}")
        page.keyboard.type(str(value))
    press_enter_on(visit.page, CONTINUE)


def answer_by_keyboard(visit: PortalVisit, questionnaire: Questionnaire,
                       yes: frozenset[str] = frozenset()) -> None:
    page = visit.page
    for number, question in enumerate(questionnaire.questions):
        expect(page.locator("h1")).to_have_text(question.text)
        if number == 0:  # the error this page shows when nothing is chosen
            press_enter_on(page, CONTINUE)
            assert page.title().startswith("Error: ")
            visit.checked(f"{questionnaire.name}-error", always=True)
            expect(page.locator(".nhsuk-error-summary")).to_contain_text(question.error)
        visit.checked(f"{questionnaire.name}-{question.question_id}", always=True)
        choose_radio(page, "answer", "yes" if question.question_id in yes else "no")
        press_enter_on(page, CONTINUE)


def test_an_unsafe_mri_answer_by_keyboard_at_320px_leaves_the_test_unbookable(
        browser: Browser, server: LiveServer, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 21, "MBRAI")
    context = new_context(browser, server, width=320)
    visit = PortalVisit(context.new_page(), shots="questions-mri", audit_every_page=False)
    sign_in_by_keyboard(visit, login)
    visit.expect_heading("Before you book: questions about your health")
    visit.checked("start", always=True)
    press_enter_on(visit.page, 'a.nhsuk-button')
    answer_by_keyboard(visit, MRI_SAFETY, yes=frozenset({"pacemaker"}))
    visit.expect_heading("Check your answers before sending them")
    visit.checked("check", always=True)
    press_enter_on(visit.page, CONTINUE)
    visit.expect_heading("We need to talk to you before you book")
    expect(visit.page.get_by_text("An MRI radiographer from the imaging department will "
                                  "contact you")).to_be_visible()
    visit.checked("review", always=True)
    visit.page.goto("/site")
    visit.expect_heading("We need to talk to you before you book")
    assert request_state(portal_world, login) == "waiting"
    context.close()


def test_safe_contrast_answers_by_keyboard_at_320px_open_booking(
        browser: Browser, server: LiveServer, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 22, "CCHEC")
    context = new_context(browser, server, width=320)
    visit = PortalVisit(context.new_page(), shots="questions-contrast", audit_every_page=False)
    sign_in_by_keyboard(visit, login)
    press_enter_on(visit.page, 'a.nhsuk-button')
    answer_by_keyboard(visit, CONTRAST)
    visit.checked("check", always=True)
    press_enter_on(visit.page, CONTINUE)
    visit.expect_heading("Answers sent")
    visit.checked("sent", always=True)
    press_enter_on(visit.page, 'a.nhsuk-button')
    visit.expect_heading("Your CT chest with contrast")
    assert request_state(portal_world, login) == "appointable"
    context.close()
