"""Health questions in Chromium at 320 px, with the keyboard alone, axe-core finding nothing
on any page: the MRI safety questions with an answer that may be unsafe (booking stays
closed, the page says who will contact the patient), the contrast questions answered
safely (booking opens), the needs page, and a new mobile confirmed with its code."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from domain.questionnaires import CONTRAST, MRI_SAFETY, Questionnaire
from tests.patient_portal.browser_support import LiveServer
from tests.patient_portal.conftest import new_context
from tests.patient_portal.keyboard import choose_radio, press_enter_on, tab_to
from tests.patient_portal.portal_visit import PortalVisit
from tests.patient_portal.portal_world import PortalPatientLogin, PortalWorld
from tests.patient_portal.question_world import (
    add_questioned_patient,
    latest_code,
    request_state,
)

CONTINUE = 'main button[type="submit"]'
"""The page's own form button (the header's sign-out form comes first in the tab order)."""


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


def test_needs_told_by_keyboard_at_320px_with_a_chaperone_for_a_transvaginal_scan(
        browser: Browser, server: LiveServer, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 23, "UPELV")
    context = new_context(browser, server, width=320)
    visit = PortalVisit(context.new_page(), shots="needs", audit_every_page=False)
    sign_in_by_keyboard(visit, login)
    press_enter_on(visit.page, 'a[href="/your-needs"]')
    visit.expect_heading("Do you need any help or support for your visit?")
    visit.checked("page", always=True)
    tab_to(visit.page, 'input[value="interpreter"]')
    visit.page.keyboard.press("Space")
    press_enter_on(visit.page, CONTINUE)  # no language given
    assert visit.page.title().startswith("Error: ")
    expect(visit.page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter the language you need an interpreter for")
    visit.checked("error", always=True)
    tab_to(visit.page, "#interpreter-language")
    visit.page.keyboard.type("Polish")
    for need in ("step-free", "chaperone"):
        tab_to(visit.page, f'input[value="{need}"]')
        visit.page.keyboard.press("Space")
    press_enter_on(visit.page, CONTINUE)
    expect(visit.page.get_by_text("We have recorded what you need for your visit")
           ).to_be_visible()
    visit.checked("saved", always=True)
    visit.page.goto("/your-needs")
    for need in ("interpreter", "step-free", "chaperone"):
        expect(visit.page.locator(f'input[value="{need}"]')).to_be_checked()
    expect(visit.page.locator("#interpreter-language")).to_have_value("Polish")
    context.close()


def test_a_new_mobile_confirmed_with_its_code_by_keyboard_at_320px(
        browser: Browser, server: LiveServer, portal_world: PortalWorld) -> None:
    login = add_questioned_patient(portal_world, 24, "UPELV")
    context = new_context(browser, server, width=320)
    visit = PortalVisit(context.new_page(), shots="contact", audit_every_page=False)
    sign_in_by_keyboard(visit, login)
    press_enter_on(visit.page, 'a[href="/contact-details"]')
    visit.checked("details", always=True)
    press_enter_on(visit.page, 'a[href="/contact-details/mobile"]')
    visit.checked("mobile", always=True)
    tab_to(visit.page, "#mobile")
    visit.page.keyboard.type("07400 123456")
    press_enter_on(visit.page, CONTINUE)
    visit.expect_heading("Check your phone")
    visit.checked("code", always=True)
    tab_to(visit.page, "#code")
    visit.page.keyboard.type(latest_code(portal_world))
    press_enter_on(visit.page, CONTINUE)
    expect(visit.page.get_by_text("Your mobile number has been saved")).to_be_visible()
    expect(visit.page.locator(".nhsuk-summary-list")).to_contain_text("07400 123456")
    press_enter_on(visit.page, 'a[href="/contact-details/preference"]')
    visit.checked("preference", always=True)
    choose_radio(visit.page, "preference", "sms")
    press_enter_on(visit.page, CONTINUE)
    expect(visit.page.locator(".nhsuk-summary-list")).to_contain_text("By text message")
    visit.checked("saved", always=True)
    context.close()
