"""The manager dashboard's read model over the hand-counted October of `report_world`: the
trends' October rows, the narrowing filters, a change in the record shown once the
background read is done (the page never waits for it), the figures warmed before any page, and
a page before the first read told so instead of waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from booking_api.core.db import Database, transaction
from booking_api.core.errors import InvalidInput
from booking_api.database import open_database
from booking_api.reports.dashboard import (
    FiguresNotReady,
    dashboard_filters,
    manager_dashboard,
    warm_dashboard,
    when_computed,
)
from booking_api.reports.warming import DashboardWarmer
from booking_api.requests.models import RequestEvent
from domain.lifecycle import RequestState
from domain.vocabulary import Modality
from tests.booking_api.report_world import OctoberIds, build_october, local

TODAY = date(2026, 11, 16)


@pytest.fixture
def october(migrated_url: str, engine: Engine) -> Iterator[tuple[Database, OctoberIds]]:
    ids = build_october(engine)
    database = open_database(migrated_url)
    yield database, ids
    database.dispose()


def _october_row(table):
    return table[table.month == "2026-10"].iloc[0]


def test_the_trends_october_rows_equal_the_hand_count(october) -> None:
    database, _ = october
    shown = manager_dashboard(database, dashboard_filters(database, TODAY, "2026-10"), TODAY)
    assert _october_row(shown.waiting_trend).waiting_list == 1
    assert _october_row(shown.turnaround_trend).received_to_test_median_days == 19.04
    attendance = _october_row(shown.attendance_trend)
    assert (attendance.appointments, attendance.dna, attendance.dna_rate) == (3, 1, 0.5)
    assert list(shown.dm01_bands.test) == ["Computed Tomography"]
    assert shown.utilisation.iloc[0].session_minutes == 60


def test_the_default_month_is_the_last_full_one(october) -> None:
    database, _ = october
    assert dashboard_filters(database, TODAY).month.label == "2026-10"


def test_a_modality_without_requests_shows_no_one_waiting(october) -> None:
    database, _ = october
    shown = manager_dashboard(database, dashboard_filters(database, TODAY, "2026-10",
                                                          modality="MR"), TODAY)
    assert _october_row(shown.waiting_trend).waiting_list == 0
    assert shown.trust_figures.waiting_list.sum() == 0


@pytest.mark.parametrize(("arguments", "field"), [
    ({"month": "October"}, "month"), ({"month": "2025-01"}, "month"),
    ({"trust_id": "XXX"}, "trust"), ({"modality": "ZZ"}, "modality")])
def test_a_bad_filter_is_refused_naming_its_field(october, arguments, field) -> None:
    database, _ = october
    with pytest.raises(InvalidInput) as refused:
        dashboard_filters(database, TODAY, **arguments)
    assert refused.value.field == field


def test_a_change_shows_after_the_background_read_and_no_page_waits_for_it(october) -> None:
    database, ids = october
    filters = dashboard_filters(database, TODAY, "2026-10")
    before = manager_dashboard(database, filters, TODAY)
    with transaction(database.engine) as session:  # request B is seen on 29 Oct after all
        session.add(RequestEvent(request_id=ids.request_b, at=local("2026-10-29 09:00"),
                                 actor="test", from_state=RequestState.APPOINTABLE,
                                 to_state=RequestState.ATTENDED))
    stale = manager_dashboard(database, filters, TODAY)
    assert stale.read_at == before.read_at
    deadline = time.monotonic() + 30
    fresh = stale
    while fresh.read_at == before.read_at and time.monotonic() < deadline:
        time.sleep(0.1)
        fresh = manager_dashboard(database, filters, TODAY)
    assert fresh.read_at > before.read_at
    assert isinstance(fresh.read_at, datetime)
    assert _october_row(fresh.waiting_trend).waiting_list == 0
    assert _october_row(fresh.turnaround_trend).received_to_test_intervals == 2


def test_before_the_first_read_is_done_a_page_hears_the_figures_are_not_ready(
        october) -> None:
    database, _ = october
    with pytest.raises(FiguresNotReady) as busy:
        dashboard_filters(database, TODAY, "2026-10", wait_s=0)
    assert busy.value.started_at <= datetime.now(UTC)
    shown = manager_dashboard(database, dashboard_filters(database, TODAY, "2026-10"), TODAY)
    assert _october_row(shown.waiting_trend).waiting_list == 1


def test_warming_computes_the_default_view_before_any_page_asks(
        october, request: pytest.FixtureRequest) -> None:
    database, _ = october
    computed: list = []
    request.addfinalizer(when_computed(computed.append))
    warm_dashboard(database, lambda: TODAY)
    shown = manager_dashboard(database, dashboard_filters(database, TODAY, wait_s=0), TODAY,
                              wait_s=0)
    assert any(made is shown for made in computed)
    assert shown.filters.month.label == "2026-10"


def test_a_refresh_computes_the_views_used_again_before_it_shows_them(
        october, request: pytest.FixtureRequest) -> None:
    database, ids = october
    computed: list = []
    request.addfinalizer(when_computed(computed.append))
    ct_october = dashboard_filters(database, TODAY, "2026-10", modality="CT")
    before = manager_dashboard(database, ct_october, TODAY)
    with transaction(database.engine) as session:
        session.add(RequestEvent(request_id=ids.request_b, at=local("2026-10-29 09:00"),
                                 actor="test", from_state=RequestState.APPOINTABLE,
                                 to_state=RequestState.ATTENDED))
    warm_dashboard(database, lambda: TODAY)
    after = manager_dashboard(database, ct_october, TODAY, wait_s=0)
    assert after.read_at > before.read_at
    assert any(made is after for made in computed)
    assert _october_row(after.waiting_trend).waiting_list == 0


def test_the_warmer_thread_computes_the_default_and_modality_views_as_it_starts(
        october, request: pytest.FixtureRequest) -> None:
    database, _ = october
    computed: list = []
    request.addfinalizer(when_computed(computed.append))
    warmer = DashboardWarmer(database, lambda: TODAY, every_s=3600).start()
    try:
        deadline = time.monotonic() + 60
        while len(computed) <= len(Modality) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        warmer.stop()
    assert {made.filters.month.label for made in computed} == {"2026-10"}
    assert [made.filters.modality for made in computed] == [None, *(m.value for m in Modality)]
    assert manager_dashboard(database, computed[0].filters, TODAY, wait_s=0) is computed[0]
