import numpy as np
import pandas as pd
from statsmodels.tsa.holtwinters import SimpleExpSmoothing

from forecasting.boosting_model import GlobalBoosting
from forecasting.demand_models import (
    CalendarSmoothing,
    ModalitySharesSmoothing,
    SeasonalNaive,
    modality_area_groups,
    modality_panel,
    smoothed_level,
    smoothing_path,
    top_down_level,
)
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


def test_top_down_levels_of_a_group_add_up_to_the_groups_smoothed_level():
    rng = np.random.default_rng(4)
    series = rng.poisson([[60.0], [9.0], [2.0]], size=(3, 70)).astype(float)
    levels = top_down_level(series, np.array([0, 0, 0]))
    assert np.isclose(levels.sum(), smoothed_level(series.sum(axis=0)[None, :])[0])


def test_a_sparse_rows_level_takes_its_share_of_the_last_year_not_its_last_weeks():
    big = np.full(70, 50.0)
    sparse = np.where(np.arange(70) % 5 == 0, 10.0, 0.0)  # 2 a week on average, in bursts
    sparse[-6:] = 0.0  # a quiet spell a per-row level would chase
    levels = top_down_level(np.vstack([big, sparse]), np.array([0, 0]))
    share = sparse[-52:].sum() / (big[-52:].sum() + sparse[-52:].sum())
    assert np.isclose(levels[1] / levels.sum(), share)


def test_groups_do_not_share_levels_and_an_empty_group_forecasts_nothing():
    series = np.vstack([np.full(60, 30.0), np.full(60, 10.0), np.zeros(60)])
    levels = top_down_level(series, np.array([0, 1, 2]))
    assert np.allclose(levels, [30.0, 10.0, 0.0])


def test_series_are_grouped_by_modality_within_an_area():
    weeks = pd.date_range("2024-01-01", periods=3, freq="7D")
    panel = WeeklyPanel(np.array(["CT_CARDIAC", "CT_PLAIN", "MR_CARDIAC", "CT_PLAIN"]),
                        np.array(["A", "A", "A", "B"]), weeks, np.ones((4, 3)))
    groups = modality_area_groups(modality_panel(panel))
    assert groups[0] == groups[1]
    assert len({groups[1], groups[2], groups[3]}) == 3


def _two_family_panel(cardiac_tail: float) -> WeeklyPanel:
    """CT plain about 100 a week and CT cardiac about 10 a week in one area for 70 weeks,
    except the cardiac series' last six weeks, which run at about `cardiac_tail`."""
    weeks = pd.date_range("2023-01-02", periods=70, freq="7D")
    rng = np.random.default_rng(8)
    cardiac = rng.poisson(10.0, 70).astype(float)
    cardiac[-6:] = rng.poisson(cardiac_tail, 6)
    return WeeklyPanel(np.array(["CT_CARDIAC", "CT_PLAIN"]), np.array(["A", "A"]), weeks,
                       np.vstack([cardiac, rng.poisson(100.0, 70)]))


def test_the_shares_model_keeps_the_family_mix_of_the_last_year():
    panel = _two_family_panel(cardiac_tail=4.0)
    forecast = ModalitySharesSmoothing().predict(panel, 3)
    mix = forecast[0] / forecast.sum(axis=0)
    year_mix = panel.counts[0, -52:].sum() / panel.counts[:, -52:].sum()
    assert np.allclose(mix, year_mix, rtol=0.02)
    per_series = CalendarSmoothing().predict(panel, 3)
    assert (per_series[0] / per_series.sum(axis=0) < mix).all()


def test_the_shares_model_splits_the_forecast_of_the_modalitys_total():
    panel = _two_family_panel(cardiac_tail=4.0)
    forecast = ModalitySharesSmoothing().predict(panel, 3)
    total = WeeklyPanel(np.array(["CT_ALL"]), np.array(["A"]), panel.weeks,
                        panel.counts.sum(axis=0, keepdims=True))
    assert np.allclose(forecast.sum(axis=0), CalendarSmoothing().predict(total, 3)[0])
