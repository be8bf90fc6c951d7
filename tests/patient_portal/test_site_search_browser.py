"""Finding a site in a real browser (issue 17, item 10): searching by name, town or postcode
and choosing the site found, with the keyboard only, at 320 pixels wide, with axe-core
finding nothing on each page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.patient_portal.browser_support import LiveServer
from tests.patient_portal.conftest import new_context
from tests.patient_portal.portal_visit import PortalVisit
from tests.patient_portal.portal_world import PortalWorld

MOST_TABS = 40


@pytest.fixture
def narrow_page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = new_context(browser, server, width=320)
    yield context.new_page()
    context.close()


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def sign_in_by_keyboard(page: Page, world: PortalWorld, patient: int) -> None:
    login = world.patients[patient]
    page.goto("/sign-in")
    tab_to(page, "#booking-reference")
    page.keyboard.type(login.booking_reference)
    born = login.date_of_birth
    for value in (born.day, born.month, born.year):
        page.keyboard.press("Tab")
        page.keyboard.type(str(value))
    with page.expect_navigation():
        page.keyboard.press("Enter")


def choose_soonest_by_keyboard(page: Page) -> None:
    page.goto("/compare")
    tab_to(page, 'input[name="compare"]')
    page.keyboard.press("Space")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_site_is_found_by_postcode_and_chosen_with_the_keyboard_at_320px(
        narrow_page: Page, portal_world: PortalWorld) -> None:
    visit = PortalVisit(narrow_page, shots="site-search")
    sign_in_by_keyboard(narrow_page, portal_world, 0)
    choose_soonest_by_keyboard(narrow_page)
    visit.checked("01-sites")

    tab_to(narrow_page, "#site-search")
    narrow_page.keyboard.type("B9 5SS")
    with narrow_page.expect_navigation():
        narrow_page.keyboard.press("Enter")

    visit.checked("02-found")
    expect(narrow_page.locator('input[name="site"]')).to_have_count(1)
    expect(narrow_page.get_by_role("status")).to_contain_text("1 site with free appointments")
    tab_to(narrow_page, 'input[name="site"]')
    narrow_page.keyboard.press("Space")
    tab_to(narrow_page, "button:not(.nhsuk-header__account-button):not(.nhsuk-button--secondary)")
    with narrow_page.expect_navigation():
        narrow_page.keyboard.press("Enter")
    visit.expect_heading("Choose a date")
    expect(narrow_page.locator("body")).to_contain_text("Heartlands Hospital")


def test_a_town_search_lists_its_sites_and_a_miss_says_so(
        narrow_page: Page, portal_world: PortalWorld) -> None:
    visit = PortalVisit(narrow_page, shots="site-search-town")
    sign_in_by_keyboard(narrow_page, portal_world, 1)
    choose_soonest_by_keyboard(narrow_page)
    tab_to(narrow_page, "#site-search")
    narrow_page.keyboard.type("Birmingham")
    with narrow_page.expect_navigation():
        narrow_page.keyboard.press("Enter")
    expect(narrow_page.locator('input[name="site"]')).to_have_count(3)
    visit.checked("01-town")

    tab_to(narrow_page, "#site-search")
    narrow_page.keyboard.press("Control+A")
    narrow_page.keyboard.type("Hereford")
    with narrow_page.expect_navigation():
        narrow_page.keyboard.press("Enter")
    expect(narrow_page.get_by_role("status")).to_contain_text(
        "No sites with free appointments match “Hereford”")
    visit.checked("02-none")
