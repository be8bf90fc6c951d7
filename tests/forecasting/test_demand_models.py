import numpy as np
import pandas as pd
from statsmodels.tsa.holtwinters import SimpleExpSmoothing

from forecasting.boosting_model import GlobalBoosting
from forecasting.demand_models import SeasonalNaive, smoothing_path
from forecasting.seasonal_profile import family_factors
from forecasting.weekly_series import WeeklyPanel, weekly_panel
from tests.forecasting.history_fixture import BANK_HOLIDAY_FACTOR


def _panel(counts: np.ndarray) -> WeeklyPanel:
    weeks = pd.date_range("2024-01-01", periods=counts.shape[1], freq="7D")
    n = counts.shape[0]
    return WeeklyPanel(np.array(["CT_PLAIN"] * n), np.array([f"B{i}" for i in range(n)]),
                       weeks, counts.astype(float))


def test_seasonal_naive_repeats_the_same_weeks_of_last_year():
    counts = np.arange(60.0)[None, :]
    forecast = SeasonalNaive().predict(_panel(counts), 3)
    assert forecast.tolist() == [[8.0, 9.0, 10.0]]


def test_seasonal_naive_falls_back_to_last_week_and_says_so_with_under_a_year():
    panel = _panel(np.arange(30.0)[None, :])
    assert SeasonalNaive().predict(panel, 2).tolist() == [[29.0, 29.0]]
    assert "fell back" in SeasonalNaive().notes(panel)[0]


def test_our_smoothing_matches_statsmodels_simple_exponential_smoothing():
    series = np.random.default_rng(3).poisson(20, size=(1, 40)).astype(float)
    ours = smoothing_path(series, 0.3)[0]
    theirs = SimpleExpSmoothing(series[0], initialization_method="known",
                                initial_level=series[0, :8].mean()).fit(
        smoothing_level=0.3, optimized=False).fittedvalues
    assert np.allclose(ours, theirs)


def test_the_family_profile_recovers_the_planted_bank_holiday_dip(history):
    panel = weekly_panel(history.requests)
    factors, _ = family_factors(panel, 1)
    # Easter 2025: the weeks of Good Friday (14 Apr) and Easter Monday (21 Apr) each lose a day.
    week = panel.weeks.get_loc(pd.Timestamp("2025-04-14"))
    before = factors[0, week - 1]
    ratio = factors[0, week] / before
    assert abs(ratio - BANK_HOLIDAY_FACTOR) < 0.06


def test_boosting_forecasts_are_reproducible_from_a_seed(history):
    panel = weekly_panel(history.requests)
    first = GlobalBoosting(seed=5, max_rows=5_000, iterations=10).predict(panel, 4)
    second = GlobalBoosting(seed=5, max_rows=5_000, iterations=10).predict(panel, 4)
    assert np.array_equal(first, second)
    assert first.shape == (panel.n_series, 4) and (first >= 0).all()
