"""The manager dashboard over the console's world: who may see it, its charts and tables, the
filters (and a bad one refused naming its field), and each figure's CSV equal to the read
model's table."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from booking_api.database import open_database
from booking_api.reports.dashboard import (
    TABLES,
    dashboard_filters,
    manager_dashboard,
    when_computed,
)
from pages_common.rendering import LONDON
from staff_console.charts import CHARTS
from tests.booking_api.access_support import make_app
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient


def _csv(staff: StaffClient, name: str, query: str = "") -> pd.DataFrame:
    answer = staff.get(f"/staff/reports/tables/{name}.csv{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return pd.read_csv(io.StringIO(answer.text))


def test_a_manager_sees_every_figure_as_a_chart_a_table_and_a_csv_link(
        staff: StaffClient) -> None:
    staff.sign_in("manager")
    page = staff.get("/staff/reports")
    assert page.status_code == 200
    assert staff.title().startswith("Reports")
    for name in CHARTS:
        assert f"/staff/reports/charts/{name}.svg?" in page.text
    for name in TABLES:
        assert f"/staff/reports/tables/{name}.csv?" in page.text


def test_a_clerk_may_not_see_the_reports(staff: StaffClient) -> None:
    staff.sign_in("clerk")
    assert staff.get("/staff/reports").status_code == 403
    assert staff.get("/staff/reports/tables/waiting_trend.csv").status_code == 403


@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_is_an_svg_image(staff: StaffClient, name: str) -> None:
    staff.sign_in("manager")
    answer = staff.get(f"/staff/reports/charts/{name}.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in answer.text


def test_a_csv_download_is_the_read_models_table(staff: StaffClient,
                                                 world: ConsoleWorld) -> None:
    staff.sign_in("manager")
    downloaded = _csv(staff, "trust_figures", "?modality=MR")
    database = open_database(world.url)
    try:
        today = datetime.now(LONDON).date()
        expected = manager_dashboard(database, dashboard_filters(database, today,
                                                                 modality="MR"), today)
    finally:
        database.dispose()
    assert list(downloaded.trust) == list(expected.trust_figures.trust)
    assert list(downloaded.waiting_list) == list(expected.trust_figures.waiting_list)


def test_the_modality_filter_narrows_the_waiting_list(staff: StaffClient) -> None:
    staff.sign_in("manager")
    month = f"?month={datetime.now(LONDON):%Y-%m}"
    everyone = _csv(staff, "waiting_trend", month).waiting_list.iloc[-1]
    assert everyone >= 1  # the world's MRI request waits
    assert _csv(staff, "waiting_trend", month + "&modality=MR").waiting_list.iloc[-1] == everyone
    assert _csv(staff, "waiting_trend", month + "&modality=XR").waiting_list.iloc[-1] == 0


@pytest.mark.parametrize(("query", "field", "message"), [
    ("month=2026-13", "month", "Enter the month as YYYY-MM"),
    ("month=1999-01", "month", "Choose a month from the list"),
    ("trust=NOPE", "trust", "Choose a trust from the list"),
    ("modality=ZZ", "modality", "Choose a modality from the list"),
])
def test_a_bad_filter_is_refused_naming_its_field(staff: StaffClient, query: str, field: str,
                                                  message: str) -> None:
    staff.sign_in("manager")
    page = staff.get(f"/staff/reports?{query}")
    assert page.status_code == 400
    assert staff.title().startswith("Error:")
    assert f'href="#{field}"' in page.text and message in page.text
    download = staff.get(f"/staff/reports/tables/waiting_trend.csv?{query}")
    assert download.status_code == 400
    assert download.text.startswith(f"{field}: ")


def test_an_unknown_figure_is_not_found(staff: StaffClient) -> None:
    staff.sign_in("manager")
    assert staff.get("/staff/reports/tables/nothing.csv").status_code == 404
    assert staff.get("/staff/reports/charts/nothing.svg").status_code == 404


def _fresh_manager(world: ConsoleWorld, clock, **settings) -> Iterator[StaffClient]:
    """A newly started app (its figures not read yet) that never waits for the first read."""
    app = make_app(world.url, clock, dashboard_wait_seconds=0, **settings)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=True) as client:
        staff = StaffClient(client)
        staff.sign_in("manager")
        yield staff


def test_before_the_first_read_the_page_says_the_figures_are_being_worked_out(
        world: ConsoleWorld, clock) -> None:
    for staff in _fresh_manager(world, clock):
        page = staff.get("/staff/reports?modality=CT")
        assert page.status_code == 200
        assert "The figures are being worked out" in page.text
        assert page.headers["retry-after"] == "3"
        assert 'href="/staff/reports?modality=CT"' in page.text


def test_before_the_first_read_a_chart_answers_503_with_retry_after(
        world: ConsoleWorld, clock) -> None:
    for staff in _fresh_manager(world, clock):
        chart = staff.get("/staff/reports/charts/waiting_trend.svg")
        assert chart.status_code == 503
        assert chart.headers["retry-after"] == "3"


def test_a_started_service_computes_the_figures_before_any_page_asks(
        world: ConsoleWorld, clock, request: pytest.FixtureRequest) -> None:
    computed: list = []
    request.addfinalizer(when_computed(computed.append))
    app = make_app(world.url, clock, dashboard_refresh_seconds=300)
    with TestClient(app, base_url="http://127.0.0.1"):
        deadline = time.monotonic() + 60
        while not computed and time.monotonic() < deadline:
            time.sleep(0.05)
    assert computed, "no dashboard was computed in the background within 60 s"
    assert computed[0].filters.trust_id is None and computed[0].filters.modality is None
