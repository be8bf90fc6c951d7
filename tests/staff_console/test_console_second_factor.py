"""Setting up two-step sign-in from the console: a role that needs it is sent to the set-up
page after signing in and kept there until it is on; the key is shown once (QR code and
text) and a code from it turns it on, audited; from then on signing in needs a code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from booking_api.access.policy import AccessPolicy
from booking_api.access.second_factor import code_at
from booking_api.database import open_engine
from tests.booking_api.access_support import (
    CHEAP_HASHER,
    PASSWORD,
    MovableClock,
    add_staff,
    audit_events,
    make_app,
)
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient

NEEDS_SECOND_FACTOR = AccessPolicy(
    password_hasher=CHEAP_HASHER,
    second_factor_roles=frozenset({AccountRole.MANAGER, AccountRole.ADMIN}))
KEY = re.compile(r'<p class="console-key" id="key"><code>([A-Z2-7 ]+)</code>')


@pytest.fixture
def engine(world: ConsoleWorld) -> Iterator[Engine]:
    engine = open_engine(world.url)
    yield engine
    engine.dispose()


@pytest.fixture
def strict(world: ConsoleWorld, clock: MovableClock) -> Iterator[StaffClient]:
    """The console with two-step sign-in required of managers and admins."""
    app = make_app(world.url, clock, NEEDS_SECOND_FACTOR)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=True) as client:
        yield StaffClient(client)


def sign_in(staff: StaffClient, username: str, code: str = "") -> None:
    staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", {"username": username, "password": PASSWORD,
                                  "one_time_code": code})


def start(staff: StaffClient) -> str:
    """Start setting up; the key the page shows, without its spaces."""
    staff.get("/staff/second-factor")
    answer = staff.post("/staff/second-factor/start")
    assert answer.status_code == 200
    found = KEY.search(answer.text)
    assert found, "the key is shown as text"
    return found.group(1).replace(" ", "")


def test_a_manager_without_a_second_factor_is_sent_to_set_it_up(
        strict: StaffClient, engine: Engine) -> None:
    add_staff(engine, "sf.manager1", AccountRole.MANAGER)
    sign_in(strict, "sf.manager1")
    assert strict.path() == "/staff/second-factor"
    assert "needs two-step sign-in" in strict.last.text
    assert strict.get("/staff/worklist").url.path == "/staff/second-factor"
    assert strict.get("/staff/diary").url.path == "/staff/second-factor"


def test_the_key_is_shown_once_as_a_qr_code_and_as_text(strict: StaffClient,
                                                         engine: Engine) -> None:
    add_staff(engine, "sf.admin1", AccountRole.ADMIN)
    sign_in(strict, "sf.admin1")
    key = start(strict)
    page = strict.last
    assert page.headers["cache-control"] == "no-store"
    assert re.search(r'<svg role="img" aria-label="QR code[^"]*"', page.text)
    assert len(key) == 32
    assert key not in str(page.url) and key not in page.headers.get("set-cookie", "")
    again = strict.get("/staff/second-factor")
    assert key not in again.text.replace(" ", "")
    assert len(audit_events(engine, "second_factor_offered")) >= 1


def test_a_right_code_turns_it_on_and_the_console_opens(strict: StaffClient, engine: Engine,
                                                        clock: MovableClock) -> None:
    staff_id = add_staff(engine, "sf.manager2", AccountRole.MANAGER)
    sign_in(strict, "sf.manager2")
    key = start(strict)

    answer = strict.post("/staff/second-factor/confirm", {"code": code_at(key, clock.now)})

    assert strict.path() == "/staff/worklist"
    assert "Two-step sign-in is on" in answer.text
    enabled = [e for e in audit_events(engine, "second_factor_enabled")
               if e.entity_id == str(staff_id)]
    assert len(enabled) == 1 and enabled[0].actor == "manager:sf.manager2"
    assert "Two-step sign-in is on for your account" in strict.get("/staff/second-factor").text


def test_once_on_signing_in_needs_a_code_from_the_app(strict: StaffClient, engine: Engine,
                                                      clock: MovableClock) -> None:
    add_staff(engine, "sf.admin2", AccountRole.ADMIN)
    sign_in(strict, "sf.admin2")
    key = start(strict)
    strict.post("/staff/second-factor/confirm", {"code": code_at(key, clock.now)})
    strict.post("/staff/sign-out")
    clock.advance(timedelta(seconds=60))

    sign_in(strict, "sf.admin2")
    assert strict.path() == "/staff/sign-in" and strict.last.status_code == 400

    sign_in(strict, "sf.admin2", code_at(key, clock.now))
    assert strict.path() == "/staff/worklist"


@pytest.mark.parametrize(("code", "message"), [
    ("", "Enter the 6-digit code"), ("12a456", "must be 6 digits"),
    ("1234567", "must be 6 digits")])
def test_a_missing_or_malformed_code_is_named_and_changes_nothing(
        strict: StaffClient, engine: Engine, code: str, message: str) -> None:
    add_staff(engine, f"sf.manager.bad{len(code)}{code[:2]}", AccountRole.MANAGER)
    sign_in(strict, f"sf.manager.bad{len(code)}{code[:2]}")
    start(strict)
    answer = strict.post("/staff/second-factor/confirm", {"code": code})
    assert answer.status_code == 400 and strict.title().startswith("Error: ")
    assert 'href="#code"' in answer.text and message in answer.text
    assert strict.get("/staff/worklist").url.path == "/staff/second-factor"


def test_a_wrong_code_is_refused_and_changes_nothing(strict: StaffClient, engine: Engine,
                                                     clock: MovableClock) -> None:
    add_staff(engine, "sf.manager3", AccountRole.MANAGER)
    sign_in(strict, "sf.manager3")
    key = start(strict)
    wrong = f"{(int(code_at(key, clock.now)) + 1) % 1_000_000:06d}"
    answer = strict.post("/staff/second-factor/confirm", {"code": wrong})
    assert answer.status_code == 400 and "That code is not right" in answer.text
    assert strict.get("/staff/worklist").url.path == "/staff/second-factor"


def test_an_account_with_it_on_cannot_start_again(strict: StaffClient, engine: Engine,
                                                  clock: MovableClock) -> None:
    add_staff(engine, "sf.admin3", AccountRole.ADMIN)
    sign_in(strict, "sf.admin3")
    key = start(strict)
    strict.post("/staff/second-factor/confirm", {"code": code_at(key, clock.now)})
    strict.get("/staff/second-factor")
    answer = strict.post("/staff/second-factor/start")
    assert answer.status_code == 409 and "ask an admin to reset it" in answer.text


def test_a_clerk_may_set_it_up_without_being_made_to(strict: StaffClient, engine: Engine,
                                                     clock: MovableClock) -> None:
    add_staff(engine, "sf.clerk", AccountRole.CLERK)
    sign_in(strict, "sf.clerk")
    assert strict.path() == "/staff/worklist"
    assert 'href="/staff/second-factor"' in strict.last.text
    key = start(strict)
    strict.post("/staff/second-factor/confirm", {"code": code_at(key, clock.now)})
    assert strict.path() == "/staff/worklist"
