"""`cdip bench diary`: the demand it plans for is named, and an unknown one is refused by name
before anything is built."""

from __future__ import annotations

import pytest

from cdip_bench.diary import DiaryBenchError, diary_benchmark


def test_an_unknown_demand_is_refused_naming_the_option() -> None:
    with pytest.raises(DiaryBenchError, match="--demand: 'oracle' is not one of synthetic, "
                                              "forecast"):
        diary_benchmark(demand="oracle")


def test_a_run_too_short_for_the_lp_still_reports_the_gap_to_our_lp_bound() -> None:
    figures = diary_benchmark(seed=1, time_limit=3.0)
    assert figures["demand"] == "synthetic"
    assert figures["exams_demanded"] > 100_000
    assert figures["errors"] == []
    assert figures["gap"] is None
    assert 0 < figures["gap_lp"] < 1
