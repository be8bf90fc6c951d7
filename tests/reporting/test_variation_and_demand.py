"""The spread of a figure between trusts, and demand against capacity for the coming weeks,
against hand-computed numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from reporting.demand_capacity import demand_and_capacity
from reporting.london import local_midnight_ns
from reporting.record import prepare
from reporting.variation import spread_between_trusts
from tests.reporting.world import World


def test_spread_names_the_extreme_trusts_and_the_quartiles() -> None:
    spread = spread_between_trusts({"dna_rate": pd.Series(
        {"T1": 0.02, "T2": 0.04, "T3": 0.06, "T4": 0.08, "T5": None})}).iloc[0]
    assert (spread.trusts, spread.min_trust, spread.max_trust) == (4, "T1", "T4")
    assert (spread["min"], spread["max"], spread.range) == pytest.approx((0.02, 0.08, 0.06))
    assert (spread.p25, spread["median"], spread.p75, spread.iqr) == pytest.approx(
        (0.035, 0.05, 0.065, 0.03))
    # population standard deviation sqrt(0.0005) over the mean 0.05
    assert spread.cv == pytest.approx(0.0005 ** 0.5 / 0.05)


def test_spread_of_a_figure_no_trust_has_is_an_empty_row() -> None:
    spread = spread_between_trusts({"fill_rate": pd.Series({"T1": None})}).iloc[0]
    assert spread.trusts == 0


AS_OF = local_midnight_ns(date(2025, 4, 1))  # Tuesday 1 April: weeks start Monday 7 April


def _capacity_world() -> World:
    """Two MRI sessions in the week of 7 April (480 minutes), one CT session in the week of
    14 April; a 30-minute MRI booked before the census, a 45-minute one booked after it, and
    a 20-minute one booked before but cancelled before the census."""
    w = World()
    first = w.session("R-MR", "2025-04-07 08:00")
    w.session("R-MR", "2025-04-08 08:00")
    w.session("R-CT", "2025-04-14 08:00")
    for start, booked, state, minutes, extra in [
        ("2025-04-07 09:00", "2025-03-20 09:00", "booked", 30, {}),
        ("2025-04-07 10:00", "2025-04-02 09:00", "booked", 45, {}),
        ("2025-04-07 11:00", "2025-03-20 09:00", "cancelled", 20,
         {"cancelled": "2025-03-25 09:00", "cancelled_by": "patient"}),
    ]:
        request = w.request("MKNEE", "2025-03-10 09:00")
        w.appointment(request, "R-MR", start, minutes, state, booked=booked, session=first,
                      **extra)
    return w


def _row(table: pd.DataFrame, week: str, modality: str) -> pd.Series:
    return table[(table.week_start == pd.Timestamp(week)) & (table.modality == modality)].iloc[0]


def test_capacity_is_session_minutes_and_booked_minutes_known_at_the_census() -> None:
    table = demand_and_capacity(prepare(_capacity_world().inputs()), AS_OF, weeks=2)
    mri = _row(table, "2025-04-07", "MR")
    assert (mri.capacity_minutes, mri.booked_minutes, mri.free_minutes) == (480, 30, 450)
    assert _row(table, "2025-04-14", "CT").capacity_minutes == 240


def test_naive_demand_is_the_mean_weekly_requests_of_the_weeks_before() -> None:
    # three MRI knee requests on 10 March, within the 8 weeks before the census
    table = demand_and_capacity(prepare(_capacity_world().inputs()), AS_OF, weeks=1,
                                baseline_weeks=8)
    mri = _row(table, "2025-04-07", "MR")
    assert mri.demand_requests == pytest.approx(3 / 8)
    assert mri.demand_share_of_capacity == pytest.approx(mri.demand_minutes / 480)


def test_forecast_demand_is_used_when_given() -> None:
    world = _capacity_world()
    forecast = pd.DataFrame({"week_start": pd.to_datetime(["2025-04-07", "2025-04-07"]),
                             "exam_family": ["MR_MSK", "MR_NEURO"], "area_id": ["A1", "A1"],
                             "expected": [10.0, 4.0]})
    table = demand_and_capacity(prepare(world.inputs(forecast=forecast)), AS_OF, weeks=1)
    assert _row(table, "2025-04-07", "MR").demand_requests == pytest.approx(14.0)
