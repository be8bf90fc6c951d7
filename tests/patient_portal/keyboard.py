"""Driving a page with the keyboard alone, as a patient who uses no mouse: Tab to a control,
then Space, arrow keys or Enter."""

from __future__ import annotations

from playwright.sync_api import Page

MAX_TABS = 60


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches `selector` (fails after MAX_TABS)."""
    for _ in range(MAX_TABS):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def press_enter_on(page: Page, selector: str) -> None:
    """Tab to a link or button and press Enter, waiting for the next page."""
    tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def choose_radio(page: Page, name: str, value: str) -> None:
    """Tab into a radio group and move to `value` with the arrow keys (which also selects)."""
    tab_to(page, f'input[type="radio"][name="{name}"]')
    for _ in range(MAX_TABS):
        if page.evaluate("s => document.activeElement.matches(s)",
                         f'input[name="{name}"][value="{value}"]'):
            page.keyboard.press("Space")
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no radio {name}={value} on {page.url}")
