"""Fixtures of the console tests: one small seeded SQLite world per module, and a page
client over the real app (the clock movable, argon2 cheap)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.booking_api.access_support import MovableClock, make_app
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
