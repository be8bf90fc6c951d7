"""Diary demand: forecast new requests split by each area's priority × age-band mix, plus the
waiting list, each request counted in the week its breach date requires."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.vocabulary import AgeBand, ExamFamily, Priority
from forecasting.demand import forecast_demand
from forecasting.diary_demand import (
    DiaryDemandError,
    WaitingRequest,
    age_bands,
    demand_mix,
    diary_demand,
    week_needed,
)

MONDAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def forecast(history):
    return forecast_demand(history.requests, horizon=4, model="ets")


@pytest.fixture(scope="module")
def mix(history):
    return demand_mix(history.requests, history.patients)


def _waiting(priority: Priority, received: date, due: date | None = None) -> WaitingRequest:
    return WaitingRequest("R1", ExamFamily.CT_PLAIN, "B1", priority, received, AgeBand.ADULT,
                          due)


def test_a_week_keeps_the_forecast_total_and_the_planted_priority_mix(forecast, mix):
    week = forecast.table["week_start"].iloc[0]
    rows = diary_demand(forecast, mix, week)
    week_total = forecast.table.loc[forecast.table["week_start"] == week, "forecast"].sum()
    assert sum(row.expected_count for row in rows) == pytest.approx(week_total)
    routine = sum(r.expected_count for r in rows if r.priority is Priority.ROUTINE)
    assert routine / week_total == pytest.approx(0.6, abs=0.05)


def test_children_are_split_out_by_the_patient_s_age_when_referred(history, forecast, mix):
    week = forecast.table["week_start"].iloc[0]
    rows = diary_demand(forecast, mix, week)
    children = sum(r.expected_count for r in rows if r.age_band is AgeBand.CHILD)
    share = (age_bands(history.requests, history.patients) == AgeBand.CHILD.value).mean()
    assert 0.03 < share < 0.2
    assert children / sum(r.expected_count for r in rows) == pytest.approx(share, rel=0.1)


@pytest.mark.parametrize(("priority", "weeks_later"), [
    (Priority.ROUTINE, 6), (Priority.URGENT, 6), (Priority.TWO_WEEK_WAIT, 2)])
def test_a_waiting_request_counts_in_the_week_its_breach_date_falls_in(priority, weeks_later):
    request = _waiting(priority, MONDAY + timedelta(days=2))
    assert week_needed(request, MONDAY) == MONDAY + timedelta(weeks=weeks_later)


def test_an_overdue_request_counts_in_the_first_week_planned() -> None:
    request = _waiting(Priority.ROUTINE, MONDAY - timedelta(weeks=10))
    assert week_needed(request, MONDAY) == MONDAY


def test_a_planned_test_counts_in_the_week_it_falls_due() -> None:
    request = _waiting(Priority.PLANNED, MONDAY, due=MONDAY + timedelta(weeks=9, days=3))
    assert week_needed(request, MONDAY) == MONDAY + timedelta(weeks=9)


def test_waiting_requests_join_the_forecast_of_their_week_only(forecast, mix):
    first, second = sorted(forecast.table["week_start"].unique())[:2]
    overdue = _waiting(Priority.ROUTINE, first - timedelta(weeks=8))
    later = _waiting(Priority.TWO_WEEK_WAIT, second - timedelta(days=10))
    plain = {(r.family, r.area_id, r.priority, r.age_band): r.expected_count
             for r in diary_demand(forecast, mix, first)}
    both = {(r.family, r.area_id, r.priority, r.age_band): r.expected_count
            for r in diary_demand(forecast, mix, first, [overdue, later])}
    key = (ExamFamily.CT_PLAIN, "B1", Priority.ROUTINE, AgeBand.ADULT)
    assert both[key] == pytest.approx(plain[key] + 1)
    assert sum(both.values()) == pytest.approx(sum(plain.values()) + 1)


def test_urgent_demand_can_be_planned_to_the_upper_quantile(forecast, mix):
    week = forecast.table["week_start"].iloc[0]
    mean = {(r.family, r.area_id, r.priority, r.age_band): r.expected_count
            for r in diary_demand(forecast, mix, week)}
    high = {(r.family, r.area_id, r.priority, r.age_band): r.expected_count
            for r in diary_demand(forecast, mix, week, upper={Priority.URGENT: "hi80"})}
    urgent = [k for k in mean if k[2] is Priority.URGENT]
    assert all(high[k] > mean[k] for k in urgent)
    assert all(high[k] == mean[k] for k in mean if k[2] is not Priority.URGENT)


def test_an_unknown_forecast_column_is_refused_by_name(forecast, mix):
    week = forecast.table["week_start"].iloc[0]
    with pytest.raises(DiaryDemandError, match="upper: 'p99'"):
        diary_demand(forecast, mix, week, upper={Priority.URGENT: "p99"})


def test_a_week_the_forecast_does_not_cover_is_named(forecast, mix):
    with pytest.raises(KeyError, match="2031-01-06"):
        diary_demand(forecast, mix, date(2031, 1, 6))
