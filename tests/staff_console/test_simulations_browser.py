"""The manager's what-if pages in Debian's Chromium against a live server, with the keyboard
alone: sign in, reach What-if from the header, a malformed scenario refused naming its key,
a run started and its page opened, back to the list; axe-core finding no WCAG 2.2 A/AA
violation on any of them, at 1024 px and at 320 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.booking_api.access_support import PASSWORD
from tests.patient_portal.browser_support import LiveServer
from tests.patient_portal.keyboard import press_enter_on, tab_to
from tests.staff_console.console_world import STAFF
from tests.staff_console.test_console_browser import ConsoleVisit, _context

START = 'main button[type="submit"]'
MALFORMED = "name: x\nchanges:\n  - demand: {percent: lots}\n"
SCENARIO = "name: Network choice\npolicies: {booking: network}\n"


def _type_into(page: Page, selector: str, text: str) -> None:
    """Tab to a field, clear it and type, keys only (a textarea takes newlines as typed)."""
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def _start_by_keyboard(page: Page, scenario: str) -> None:
    _type_into(page, "#scenario", scenario)
    _type_into(page, "#weeks", "8")
    _type_into(page, "#replications", "2")
    press_enter_on(page, START)


@pytest.mark.parametrize("width", [1024, 320])
def test_a_manager_runs_a_what_if_with_the_keyboard_alone(manager_browser: Browser,
                                                          manager_server: LiveServer,
                                                          width: int) -> None:
    context = _context(manager_browser, manager_server, width)
    visit = ConsoleVisit(context.new_page(), f"{width}px-whatif")
    page = visit.page
    page.goto("/staff/sign-in")
    _type_into(page, "#username", STAFF["manager"])
    _type_into(page, "#password", PASSWORD)
    press_enter_on(page, START)
    if width < 1024:  # a narrow header keeps the last items under "More"
        tab_to(page, "button.nhsuk-header__menu-toggle")
        page.keyboard.press("Enter")
    press_enter_on(page, 'a[href="/staff/simulations"]')
    expect(page.get_by_role("heading", name="What-if simulations")).to_be_visible()
    visit.checked("whatif")

    _start_by_keyboard(page, MALFORMED)
    expect(page.locator("main")).to_contain_text("changes[0].demand.percent")
    visit.checked("whatif-refused")

    _start_by_keyboard(page, SCENARIO)
    assert re.search(r"/staff/simulations/\d+$", page.url)
    expect(page.locator("main")).to_contain_text("not the live schedule")
    visit.checked("whatif-run")

    press_enter_on(page, 'nav[aria-label="Back"] a')
    expect(page.get_by_role("link", name=re.compile(r"^Run \d+$")).first).to_be_visible()
    visit.checked("whatif-runs")
    context.close()
