"""The manager dashboard's read model over the hand-counted October of `report_world`: the
trends' October rows, the narrowing filters, and a change in the record shown once the
background read is done (the page never waits for it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from booking_api.core.db import Database, transaction
from booking_api.core.errors import InvalidInput
from booking_api.database import open_database
from booking_api.reports.dashboard import dashboard_filters, manager_dashboard
from booking_api.requests.models import RequestEvent
from domain.lifecycle import RequestState
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
