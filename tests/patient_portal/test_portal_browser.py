"""The portal in Debian's Chromium against a live server: every journey a patient takes, with
axe-core finding no WCAG 2.2 A/AA violation on any page, at desktop width and at 320 px.
Screenshots of the main pages go to test-artifacts/portal/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.patient_portal.browser_support import LiveServer
from tests.patient_portal.conftest import new_context
from tests.patient_portal.portal_visit import PortalVisit
from tests.patient_portal.portal_world import (
    PortalWorld,
    appointment_states,
    book_late_slot,
    expire_every_hold,
)


@pytest.mark.parametrize(("width", "patient"), [(1024, 0), (320, 1)],
                         ids=["desktop", "320px"])
def test_patient_books_a_time_and_downloads_the_calendar_file(
        browser: Browser, server: LiveServer, portal_world: PortalWorld, width: int,
        patient: int) -> None:
    login = portal_world.patients[patient]
    context = new_context(browser, server, width=width)
    visit = PortalVisit(context.new_page(), shots=f"{width}px")
    visit.sign_in(login)
    visit.choose_time(compare="Closest to my home")
    visit.checked("08-check", always=True)
    expect(visit.page.get_by_text("We are holding this time for you until")).to_be_visible()
    visit.press("I need more time")
    expect(visit.page.get_by_text("We have added")).to_be_visible()
    expect(visit.page.get_by_role("button", name="I need more time")).to_be_visible()
    visit.checked("08-check-extended")
    visit.press("Confirm appointment")
    visit.checked("09-confirmation", always=True)
    expect(visit.page.locator(".nhsuk-panel")).to_contain_text(login.booking_reference)
    with visit.page.expect_download() as download:
        visit.page.get_by_role("link", name="Add this appointment to your calendar").click()
    calendar = Path(download.value.path()).read_text()
    assert f"UID:booking-{login.request_id}@127.0.0.1" in calendar
    assert "DTSTART;TZID=Europe/London:" in calendar and "BEGIN:VTIMEZONE" in calendar
    assert appointment_states(portal_world, login) == ["booked"]
    assert visit.personal_data_in_urls(login) == []
    context.close()


def test_later_dates_come_ten_at_a_time(page: Page, portal_world: PortalWorld) -> None:
    visit = PortalVisit(page, audit_every_page=False)
    visit.sign_in(portal_world.patients[10])
    visit.follow("Choose a place and time")
    page.get_by_label("A particular site").check()
    visit.press("Continue")
    page.locator('input[name="site"]').first.check()
    visit.press("Continue")
    first_page = page.locator('input[name="date"]')
    expect(first_page).to_have_count(10)
    earliest = first_page.first.get_attribute("value")
    visit.follow("Show later dates")
    visit.checked("later-dates", always=True)
    later = page.locator('input[name="date"]')
    expect(later).to_have_count(portal_world.days - 10)
    assert (later.first.get_attribute("value") or "") > (earliest or "")
    visit.follow("Show the earliest dates")
    expect(page.locator('input[name="date"]').first).to_have_value(earliest or "")


def test_the_accessibility_statement_passes_axe(page: Page) -> None:
    page.goto("/accessibility")
    PortalVisit(page).checked("accessibility")


def test_changing_an_appointment_keeps_the_old_one_until_the_new_time_is_confirmed(
        page: Page, portal_world: PortalWorld) -> None:
    login = portal_world.patients[2]
    book_late_slot(portal_world, login)
    visit = PortalVisit(page, audit_every_page=False)
    visit.sign_in(login)
    visit.expect_heading("Your appointment")
    visit.checked("appointment", always=True)
    old_date = page.locator(".nhsuk-summary-list").inner_text()
    visit.follow("Change the date, time or place")
    visit.choose_time()
    visit.checked("check-change", always=True)
    expect(page.get_by_text("We are holding this time for you until")).to_be_visible()
    assert appointment_states(portal_world, login) == ["booked", "held"]  # both, until confirmed
    visit.press("Confirm change")
    visit.expect_heading("Appointment changed")
    visit.checked("changed", always=True)
    assert appointment_states(portal_world, login) == ["cancelled", "booked"]
    visit.follow("change or cancel your appointment")
    assert page.locator(".nhsuk-summary-list").inner_text() != old_date


def test_cancelling_asks_for_confirmation_and_a_reason(page: Page,
                                                       portal_world: PortalWorld) -> None:
    login = portal_world.patients[3]
    book_late_slot(portal_world, login)
    visit = PortalVisit(page, shots="cancel", audit_every_page=False)
    visit.sign_in(login)
    visit.follow("Cancel this appointment")
    visit.checked("01-are-you-sure", always=True)
    visit.press("Yes, cancel this appointment")
    assert page.title().startswith("Error: ")
    visit.checked("02-reason-missing", always=True)
    assert appointment_states(portal_world, login) == ["booked"]
    page.get_by_label("I am too unwell to go").check()
    visit.press("Yes, cancel this appointment")
    visit.expect_heading("Appointment cancelled")
    visit.checked("03-cancelled", always=True)
    assert appointment_states(portal_world, login) == ["cancelled"]


def test_two_patients_race_for_one_time_and_the_loser_is_offered_the_nearest_others(
        browser: Browser, server: LiveServer, portal_world: PortalWorld) -> None:
    first, second = (new_context(browser, server) for _ in range(2))
    winner, loser = (PortalVisit(context.new_page(), audit_every_page=False)
                     for context in (first, second))
    for visit, login in ((winner, portal_world.patients[4]), (loser, portal_world.patients[5])):
        visit.sign_in(login)
        _to_times(visit)
    winner.pick_time(2)
    winner.expect_heading("Check your appointment")
    loser.pick_time(2)
    assert loser.page.title().startswith("Error: ")
    expect(loser.page.locator(".nhsuk-error-summary")).to_contain_text(
        "has just been booked by someone else")
    loser.checked("race-lost", always=True)
    others = loser.page.locator('input[name="time"]')
    assert 1 <= others.count() <= 5
    loser.pick_time(0)
    loser.expect_heading("Check your appointment")
    first.close()
    second.close()


def test_a_hold_that_runs_out_is_explained_and_the_times_offered_again(
        page: Page, portal_world: PortalWorld) -> None:
    page.clock.install()
    visit = PortalVisit(page, shots="expired", audit_every_page=False)
    visit.sign_in(portal_world.patients[6])
    visit.choose_time(day=1)
    status = page.get_by_role("status")
    expect(status).to_be_empty()
    page.clock.run_for("08:30")
    expect(status).to_contain_text("left. Select ‘I need more time’ if you need longer")
    visit.checked("00-two-minutes-left", always=True)
    page.clock.run_for("02:00")
    expect(status).to_contain_text("We are no longer holding this time")
    assert expire_every_hold(portal_world) >= 1
    visit.press("Confirm appointment")
    assert page.title().startswith("Error: ")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("the hold ran out")
    visit.checked("01-hold-ran-out", always=True)
    assert appointment_states(portal_world, portal_world.patients[6]) == ["cancelled"]


def test_a_failed_sign_in_gives_one_plain_error_and_works_by_keyboard(
        page: Page, portal_world: PortalWorld) -> None:
    login = portal_world.patients[7]
    visit = PortalVisit(page, shots="sign-in")
    page.goto("/sign-in")
    page.get_by_label("Booking reference").focus()
    page.keyboard.type(login.booking_reference)
    for value in ("18", "5", "1960"):  # the wrong day of birth
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.title().startswith("Error: ")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("We could not find a booking with that reference")
    expect(summary).to_be_focused()
    visit.checked("01-failed", always=True)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Booking reference")).to_be_focused()


def test_joining_and_leaving_the_short_notice_list(page: Page,
                                                   portal_world: PortalWorld) -> None:
    login = portal_world.patients[8]
    book_late_slot(portal_world, login)
    visit = PortalVisit(page, shots="short-notice", audit_every_page=False)
    visit.sign_in(login)
    visit.follow("Ask for an earlier appointment at short notice")
    visit.checked("01-form", always=True)
    visit.press("Join the short-notice list")
    assert page.title().startswith("Error: ")
    visit.checked("02-errors", always=True)
    for label in ("Monday", "Friday", "Mornings (before 12pm)", "Up to 10 miles", "1 day"):
        page.get_by_label(label, exact=True).check()
    visit.press("Join the short-notice list")
    expect(page.get_by_text("You are on the short-notice list")).to_be_visible()
    visit.follow("Change or leave the short-notice list")
    expect(page.get_by_label("Friday", exact=True)).to_be_checked()
    visit.press("Leave the short-notice list")
    expect(page.get_by_text("You have left the short-notice list")).to_be_visible()
    visit.checked("03-left", always=True)


def test_booking_works_without_javascript(browser: Browser, server: LiveServer,
                                          portal_world: PortalWorld) -> None:
    context = new_context(browser, server, javascript=False)
    page = context.new_page()
    login = portal_world.patients[9]
    page.goto("/sign-in")
    page.get_by_label("Booking reference").fill(login.booking_reference)
    page.get_by_label("Day").fill("17")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("1960")
    for step in ("Continue", "Choose a place and time", "soonest", "site", "date", "time",
                 "Confirm appointment"):
        with page.expect_navigation():
            if step in ("soonest", "site", "date", "time"):
                if step == "soonest":
                    page.get_by_label("The soonest appointment anywhere").check()
                else:
                    page.locator(f'input[name="{step}"]').first.check()
                page.get_by_role("button", name="Continue").click()
            elif step == "Choose a place and time":
                page.get_by_role("button", name=step).click()
            else:
                page.get_by_role("button", name=step).click()
    expect(page.locator("h1")).to_contain_text("Appointment booked")
    assert appointment_states(portal_world, login) == ["booked"]
    context.close()


def _to_times(visit: PortalVisit) -> None:
    """To the times of the third date at the second site listed by name (both racers)."""
    visit.checked("03-your-test")
    visit.follow("Choose a place and time")
    visit.page.get_by_label("A particular site").check()
    visit.press("Continue")
    visit.page.locator('input[name="site"]').nth(1).check()
    visit.press("Continue")
    visit.pick_date(2)
