import numpy as np
import pytest

from forecasting.demand_backtest import backtest, rolling_origins
from forecasting.demand_models import CalendarSmoothing, SeasonalNaive
from forecasting.intervals import scale_from_errors
from forecasting.weekly_series import HistoryTooShortError, expected_panel, weekly_panel


def test_calibrated_intervals_cover_fresh_poisson_counts_at_their_nominal_rate():
    rng = np.random.default_rng(1)
    mean = rng.uniform(2, 60, size=(400, 12))
    scale = scale_from_errors(mean, rng.poisson(mean).astype(float))
    fresh = rng.poisson(mean)
    for level in (0.8, 0.95):
        lower, upper = scale.bounds(mean, level)
        covered = ((fresh >= lower) & (fresh <= upper)).mean()
        assert abs(covered - level) < 0.03


def test_overdispersion_is_found_when_counts_vary_more_than_poisson():
    rng = np.random.default_rng(2)
    mean = np.full((300, 12), 40.0)
    noisy = rng.poisson(mean * rng.gamma(10, 0.1, size=mean.shape))  # variance mu + mu^2/10
    assert scale_from_errors(mean, noisy.astype(float)).overdispersion == pytest.approx(0.1,
                                                                                        abs=0.03)


def test_rolling_origins_keep_every_horizon_inside_the_history():
    assert rolling_origins(104, 12, count=3, step=4) == [84, 88, 92]
    with pytest.raises(HistoryTooShortError, match="at least 38 whole weeks"):
        rolling_origins(30, 12, count=3, step=4)


def test_backtest_beats_seasonal_naive_and_covers_about_80_percent(history):
    panel = weekly_panel(history.requests)
    oracle = expected_panel(history.truth.expected_demand, panel)
    result = backtest(panel, [SeasonalNaive(), CalendarSmoothing()], horizon=12,
                      origins=[80, 92], oracle=oracle)
    naive, ets = result.models["seasonal_naive"], result.models["ets"]
    assert ets["mase"] < 0.85 * naive["mase"]
    assert ets["mase"] < 1.1 * result.models["oracle"]["mase"]
    assert 0.72 <= ets["coverage80"] <= 0.88
    assert set(ets) >= {"mase", "wape", "bias", "coverage80", "coverage95", "fit_seconds"}


def test_under_a_year_of_history_still_backtests_and_says_what_it_gave_up(history):
    requests = history.requests[history.requests["received_date"] < "2024-11-04"]  # 44 weeks
    panel = weekly_panel(requests)
    result = backtest(panel, [SeasonalNaive(), CalendarSmoothing()], horizon=12,
                      origins=rolling_origins(panel.n_weeks, 12, count=2, step=4))
    notes = " ".join(result.notes)
    assert "fell back to the naive" in notes
    assert "no annual cycle" in notes
    assert "lag 1" in notes
    assert result.models["ets"]["mase"] > 0
