"""The service manager's what-if page: a manager starts a run from a scenario and sees it
queued; a malformed scenario is refused on the page naming the key; clerks cannot open it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.booking_api.access_support import MovableClock, make_app
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient

SCENARIO = "name: Saturday lists\npolicies: {booking: network}\n"


@pytest.fixture
def staff_without_jobs(world: ConsoleWorld, clock: MovableClock) -> Iterator[StaffClient]:
    """The console with no job runner in the server (as beside `cdip worker`): a started
    run stays queued, not taken up while the page is asserted."""
    app = make_app(world.url, clock, run_jobs_in_server=False)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=True) as client:
        yield StaffClient(client)


def test_a_manager_starts_a_run_and_sees_it_queued(staff_without_jobs: StaffClient) -> None:
    staff = staff_without_jobs
    staff.sign_in("manager")
    staff.get("/staff/simulations")
    done = staff.post("/staff/simulations", {"scenario": SCENARIO, "weeks": "8",
                                             "replications": "2"})
    assert done.status_code == 200, done.text
    assert re.search(r"/staff/simulations/\d+$", str(done.url))
    assert "Saturday lists" in done.text and "queued" in done.text
    assert "not the live schedule" in done.text


def test_a_malformed_scenario_is_refused_on_the_page_naming_the_key(staff: StaffClient) -> None:
    staff.sign_in("manager")
    staff.get("/staff/simulations")
    page = staff.post("/staff/simulations", {
        "scenario": "name: x\nchanges:\n - demand: {percent: lots}\n", "weeks": "8",
        "replications": "2"})
    assert page.status_code == 400
    assert "changes[0].demand.percent" in page.text


def test_a_clerk_cannot_open_the_what_if_page(staff: StaffClient) -> None:
    staff.sign_in("clerk")
    assert staff.get("/staff/simulations").status_code == 403
