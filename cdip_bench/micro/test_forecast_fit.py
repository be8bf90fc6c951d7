"""One demand-forecast fit: each model fits 24 family × area series of three years and
forecasts 12 weeks ('ets' is the default of `cdip forecast demand`; 'boosting' the costly one)."""

from __future__ import annotations

import numpy as np
import pytest

from cdip_bench.micro.workloads import seasonal_panel
from forecasting.boosting_model import GlobalBoosting
from forecasting.demand_models import CalendarSmoothing
from forecasting.weekly_series import WeeklyPanel

HORIZON = 12
MODELS = {"ets": CalendarSmoothing, "boosting": GlobalBoosting}
"""Imported here, not through `demand.make_model`'s import on use: scikit-learn's OpenMP must
be loaded before `one_thread` limits it, or the boosting fit spreads over every core."""


@pytest.fixture(scope="module")
def panel() -> WeeklyPanel:
    return seasonal_panel(families=4, areas=6, weeks=156)


@pytest.mark.parametrize("model_name", list(MODELS))
def test_fit_and_forecast_twelve_weeks(benchmark, panel, model_name, one_thread):
    model = MODELS[model_name]()

    forecast = benchmark(model.predict, panel, HORIZON)

    assert forecast.shape == (panel.n_series, HORIZON)
    assert np.all(np.isfinite(forecast)) and np.all(forecast >= 0)
