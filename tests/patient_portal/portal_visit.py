"""A patient's visit to the portal in a browser, step by step, with axe-core checked on every
page it reaches (zero violations) and, when asked, a screenshot of each main page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.patient_portal.browser_support import axe_violations, screenshot
from tests.patient_portal.portal_world import PortalPatientLogin

PORTAL_PREFIX = "http://127.0.0.1"
FORM_ERRORS_SHOWN = "the server responded with a status of 422"
"""Chromium's log line for a page answered 422: a form shown again with its errors."""


@dataclass
class PortalVisit:
    page: Page
    shots: str | None = None
    """Prefix of screenshot names (None: no screenshots)."""
    audit_every_page: bool = True
    """False: only pages checked with `always=True` (the journey's own pages are audited
    by the booking tests; other tests audit the pages they add)."""
    urls: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    """Script errors and CSP refusals; failed loads of blocked outside hosts are expected, and
    so is a form shown again with its errors (answered 422, which Chromium logs)."""

    def __post_init__(self) -> None:
        self.page.on("request", lambda request: self.urls.append(request.url))
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        source = message.location.get("url", "") if message.location else ""
        blocked_outside = source.startswith("http") and not source.startswith(PORTAL_PREFIX)
        form_errors = FORM_ERRORS_SHOWN in message.text
        if message.type == "error" and not blocked_outside and not form_errors:
            self.console_errors.append(f"{source}: {message.text}")

    def checked(self, name: str, always: bool = False) -> None:
        """The page now shown passes axe, fits the viewport's width, and is photographed."""
        if not (self.audit_every_page or always):
            return
        violations = axe_violations(self.page)
        assert violations == [], f"axe on {self.page.url}:\n" + "\n".join(violations)
        assert self.console_errors == [], "\n".join(self.console_errors)
        fits = self.page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{self.page.url} scrolls sideways at this width"
        if self.shots:
            screenshot(self.page, f"{self.shots}-{name}")

    def press(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button, exact=True).click()

    def follow(self, link: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=link).or_(
                self.page.get_by_role("button", name=link)).first.click()

    def sign_in(self, login: PortalPatientLogin, day: int | None = None) -> None:
        self.page.goto("/")
        self.checked("01-start")
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Start now").click()
        self.checked("02-sign-in")
        self.page.get_by_label("Booking reference").fill(login.booking_reference)
        born = login.date_of_birth
        self.page.get_by_label("Day").fill(str(day if day is not None else born.day))
        self.page.get_by_label("Month").fill(str(born.month))
        self.page.get_by_label("Year").fill(str(born.year))
        self.press("Continue")

    def choose_time(self, compare: str = "The soonest appointment anywhere", site: int = 0,
                    day: int = 0, slot: int = 0) -> None:
        """From the test page to the check page."""
        self.checked("03-your-test")
        self.follow("Choose a place and time")
        self.checked("04-compare")
        self.page.get_by_label(compare).check()
        self.press("Continue")
        self.checked("05-sites")
        self.page.locator('input[name="site"]').nth(site).check()
        self.press("Continue")
        self.pick_date(day)
        self.pick_time(slot)

    def pick_date(self, day: int = 0) -> None:
        self.checked("06-dates")
        self.page.locator('input[name="date"]').nth(day).check()
        self.press("Continue")

    def pick_time(self, slot: int = 0) -> None:
        self.checked("07-times")
        self.page.locator('input[name="time"]').nth(slot).check()
        self.press("Continue")

    def heading(self) -> str:
        return self.page.locator("h1").first.inner_text()

    def expect_heading(self, text: str) -> None:
        expect(self.page.locator("h1").first).to_contain_text(text)

    def personal_data_in_urls(self, login: PortalPatientLogin) -> list[str]:
        reference = re.sub(r"[^A-Z0-9]", "", login.booking_reference.upper())
        born = login.date_of_birth
        marks = (reference, login.booking_reference, born.isoformat(), str(born.year))
        return [url for url in self.urls
                if any(mark in re.sub(r"[^A-Za-z0-9-]", "", url) for mark in marks)]
