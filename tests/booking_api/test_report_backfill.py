"""The backfill fill rate read from backfill's own records (freed slots and their offers)
through the service's report frames, against the October counted by hand in `report_world`:
of the two slots freed 48 hours or more ahead one was filled by an accepted offer; a slot
freed 21 hours ahead and filled is not counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from booking_api.core.db import Database
from booking_api.database import open_database
from booking_api.reports.dashboard import dashboard_filters, manager_dashboard
from booking_api.reports.service_frames import service_inputs
from reporting import Month, prepare
from reporting.attendance import attendance
from reporting.inputs import check_inputs
from tests.booking_api.report_world import (
    BackfillIds,
    OctoberIds,
    add_backfill,
    build_october,
)

OCTOBER = Month.parse("2026-10")
TODAY = date(2026, 11, 16)


@pytest.fixture
def october(engine: Engine) -> tuple[OctoberIds, BackfillIds]:
    ids = build_october(engine)
    return ids, add_backfill(engine, ids)


@pytest.fixture
def database(migrated_url: str, october) -> Iterator[Database]:
    opened = open_database(migrated_url)
    yield opened
    opened.dispose()


def test_the_backfill_frame_lists_each_let_go_appointment_with_its_filler(
        engine: Engine, october) -> None:
    ids, backfill = october
    frame = service_inputs(engine).backfill
    assert frame is not None
    rows = frame.set_index("appointment_id")
    assert sorted(rows.index) == sorted([ids.cancelled, backfill.unfilled, backfill.late])
    assert rows.filled_by_appointment_id[ids.cancelled] == backfill.filler
    assert pd.isna(rows.filled_by_appointment_id[backfill.unfilled])
    assert rows.filled_by_appointment_id[backfill.late] == backfill.late_filler
    assert rows.first_offer_at[ids.cancelled] == pd.Timestamp("2026-10-05 10:01", tz="UTC")


def test_the_frames_with_backfill_pass_the_engines_checks(engine: Engine, october) -> None:
    check_inputs(service_inputs(engine))


def test_the_fill_rate_counts_slots_freed_48_hours_ahead_filled_by_an_offer(
        engine: Engine, october) -> None:
    rates = attendance(prepare(service_inputs(engine)), (OCTOBER.start_ns, OCTOBER.end_ns))
    network = rates[rates.by == "network"].iloc[0]
    assert (network.freed_48h, network.backfilled) == (2, 1)
    assert network.backfill_fill_rate == pytest.approx(0.5)


def test_where_backfill_never_freed_a_slot_the_fill_rate_is_blank_not_zero(
        engine: Engine) -> None:
    build_october(engine)
    rates = attendance(prepare(service_inputs(engine)), (OCTOBER.start_ns, OCTOBER.end_ns))
    network = rates[rates.by == "network"].iloc[0]
    assert network.freed_48h == 1
    assert pd.isna(network.backfill_fill_rate)


def test_the_dashboard_shows_octobers_fill_rate_by_month_and_by_trust(
        database: Database) -> None:
    shown = manager_dashboard(database, dashboard_filters(database, TODAY, "2026-10"), TODAY)
    october = shown.attendance_trend.set_index("month").loc["2026-10"]
    assert (october.freed_48h, october.backfilled, october.backfill_fill_rate) == (2, 1, 0.5)
    assert list(shown.trust_figures.backfill_fill_rate) == [0.5]
    assert "backfill_fill_rate" in set(shown.variation.figure)
