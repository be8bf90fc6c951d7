"""Fixtures of the portal tests: one small seeded SQLite world per module, a TestClient for
the page tests, and for the browser tests a live server and Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, Route

from booking_api.core.config import Settings
from cdip_web.app import create_app
from tests.patient_portal.browser_support import (
    LiveServer,
    headless_chromium,
    live_server,
    require_chromium,
)
from tests.patient_portal.portal_world import PortalWorld, build_portal_world


@pytest.fixture(scope="module")
def portal_world(tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    path: Path = tmp_path_factory.mktemp("portal") / "portal.sqlite3"
    return build_portal_world(f"sqlite:///{path}")


@pytest.fixture
def client(portal_world: PortalWorld) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=portal_world.url, environment="test"))
    # Each page sees every commit before it: the index may otherwise lag by a quarter of a
    # second and offer a time booked by the test's previous step (lag is its own behaviour,
    # tested where it matters).
    app.state.slot_index.max_staleness_s = 0
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=True) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(portal_world: PortalWorld) -> Iterator[LiveServer]:
    require_chromium()
    with live_server(portal_world.url) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Browser]:
    with headless_chromium() as launched:
        yield launched


def new_context(browser: Browser, server: LiveServer, *, width: int = 1024,
                javascript: bool = True) -> BrowserContext:
    """A fresh browser profile that can reach only the portal (fonts and every other outside
    request are blocked)."""
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript, accept_downloads=True,
                                  base_url=server.base_url)

    def only_the_portal(route: Route) -> None:
        if route.request.url.startswith(server.base_url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_portal)
    context.set_default_timeout(8000)
    return context


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = new_context(browser, server)
    yield context.new_page()
    context.close()
