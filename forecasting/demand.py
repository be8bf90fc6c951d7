"""Weekly demand forecasts per exam family × demand area, 1..12 weeks ahead, with 80 % and 95 %
intervals, as the tidy table the diary builder and the hierarchy functions take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.calendar_features import future_weeks
from forecasting.demand_models import (
    CalendarSmoothing,
    DemandModel,
    ModalitySharesSmoothing,
    SeasonalNaive,
)
from forecasting.intervals import forecast_with_intervals
from forecasting.weekly_series import WeeklyPanel, panel_of_weekly_counts, weekly_panel

MODEL_NAMES = ("seasonal_naive", "ets", "ets_shares", "boosting")
DEFAULT_MODEL = "ets_shares"
MAX_HORIZON = 12
FORECAST_COLUMNS = ("week_start", "exam_family", "area_id", "forecast", "lo80", "hi80", "lo95",
                    "hi95", "sd")


class UnknownModelError(ValueError):
    pass


@dataclass(frozen=True)
class DemandForecast:
    """The tidy forecast plus what is needed to widen its intervals to sums of areas."""

    model: str
    table: pd.DataFrame  # FORECAST_COLUMNS, one row per week × family × area
    half_width80: float  # interval half-width as a multiple of `sd`
    half_width95: float
    notes: tuple[str, ...]


def make_model(name: str, seed: int = 0) -> DemandModel:
    if name == "seasonal_naive":
        return SeasonalNaive()
    if name == "ets":
        return CalendarSmoothing()
    if name == "ets_shares":
        return ModalitySharesSmoothing()
    if name == "boosting":
        from forecasting.boosting_model import GlobalBoosting  # scikit-learn: import on use

        return GlobalBoosting(seed=seed)
    raise UnknownModelError(f"unknown demand model '{name}'; choose one of "
                            f"{', '.join(MODEL_NAMES)}")


def forecast_demand(requests: pd.DataFrame, horizon: int = MAX_HORIZON,
                    model: str = DEFAULT_MODEL, seed: int = 0) -> DemandForecast:
    """Fit on every whole week of `requests` and forecast the following `horizon` weeks."""
    return forecast_panel(weekly_panel(requests), horizon, model, seed)


def forecast_weekly_demand(counts: pd.DataFrame, horizon: int = MAX_HORIZON,
                           model: str = DEFAULT_MODEL, seed: int = 0) -> DemandForecast:
    """`forecast_demand` from requests counted per whole week (week_start, exam_family,
    area_id, requests), as the booking service keeps a history."""
    return forecast_panel(panel_of_weekly_counts(counts), horizon, model, seed)


def forecast_panel(panel: WeeklyPanel, horizon: int = MAX_HORIZON, model: str = DEFAULT_MODEL,
                   seed: int = 0) -> DemandForecast:
    """Fit on the panel's weeks and forecast the following `horizon` weeks."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon must be 1..{MAX_HORIZON} weeks, not {horizon}")
    result = forecast_with_intervals(make_model(model, seed), panel, horizon)
    weeks = future_weeks(panel.weeks[-1], horizon)
    table = pd.DataFrame({
        "week_start": np.tile(weeks.date, panel.n_series),
        "exam_family": np.repeat(panel.families, horizon),
        "area_id": np.repeat(panel.areas, horizon),
        "forecast": result.mean.ravel(),
        "lo80": result.lower[0.8].ravel(), "hi80": result.upper[0.8].ravel(),
        "lo95": result.lower[0.95].ravel(), "hi95": result.upper[0.95].ravel(),
        "sd": result.sd.ravel(),
    })
    return DemandForecast(model, table, result.scale.half_width[0.8],
                          result.scale.half_width[0.95], result.notes)
