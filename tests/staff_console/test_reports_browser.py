"""The manager dashboard in Debian's Chromium against a live server: the page and a filtered
page with axe-core finding no WCAG 2.2 A/AA violation, at 1024 px and at 320 px, every chart
loaded. The server asks no second factor of managers here (two-step sign-in has its own
tests), so the walk starts at the dashboard rather than at setting up an authenticator."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.patient_portal.browser_support import LiveServer
from tests.staff_console.test_console_browser import ConsoleVisit, _context


@pytest.mark.parametrize("width", [1024, 320])
def test_a_manager_reads_the_reports_and_filters_them(manager_browser: Browser,
                                                      manager_server: LiveServer,
                                                      width: int) -> None:
    context = _context(manager_browser, manager_server, width)
    visit = ConsoleVisit(context.new_page(), f"{width}px-reports")
    visit.sign_in("manager")
    reports = visit.page.get_by_role("link", name="Reports").first
    if not reports.is_visible():  # a narrow header keeps the last items under "More"
        visit.page.get_by_role("button", name="More").click()
    reports.click()
    visit.page.wait_for_url("**/staff/reports")
    expect(visit.page.get_by_role("heading", name="Waiting list", exact=True)).to_be_visible()
    visit.checked("reports")
    visit.page.get_by_label("Modality").select_option("MR")
    visit.press("Show figures")
    visit.page.wait_for_url("**modality=MR**")
    charts = visit.page.locator("img.console-chart")
    expect(charts).to_have_count(5)
    for index in range(5):  # every chart drawn and loaded, not a broken image
        charts.nth(index).scroll_into_view_if_needed()
        expect(charts.nth(index)).to_have_js_property("complete", True)
        assert charts.nth(index).evaluate("image => image.naturalWidth > 0")
    visit.checked("reports-mr")
    context.close()
