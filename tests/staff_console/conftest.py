"""Fixtures of the console tests: one small seeded SQLite world per module, and a page
client over the real app (the clock movable, argon2 cheap)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from tests.booking_api.access_support import MovableClock, make_app
from tests.patient_portal.browser_support import (
    LiveServer,
    headless_chromium,
    live_server,
    require_chromium,
)
from tests.staff_console.console_world import ConsoleWorld, build_console_world
from tests.staff_console.staff_client import StaffClient


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> ConsoleWorld:
    path: Path = tmp_path_factory.mktemp("console") / "console.sqlite3"
    return build_console_world(f"sqlite:///{path}")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC))


@pytest.fixture
def staff(world: ConsoleWorld, clock: MovableClock) -> Iterator[StaffClient]:
    app = make_app(world.url, clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=True) as client:
        yield StaffClient(client)


@pytest.fixture(scope="module")
def browser_world(tmp_path_factory: pytest.TempPathFactory) -> ConsoleWorld:
    """A console world for a module of pages in Chromium."""
    require_chromium()
    path: Path = tmp_path_factory.mktemp("console-browser") / "console.sqlite3"
    return build_console_world(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def manager_server(browser_world: ConsoleWorld) -> Iterator[LiveServer]:
    """A live server that asks no second factor of managers (two-step sign-in has its own
    tests), so a walk starts at the page under test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDIP_SECOND_FACTOR_ROLES", "admin")
        with live_server(browser_world.url) as running:
            yield running


@pytest.fixture(scope="module")
def manager_browser(manager_server: LiveServer) -> Iterator[Browser]:
    with headless_chromium() as launched:
        yield launched
