"""The simple demand models: seasonal naive (the baseline every other model must beat) and
exponential smoothing on the family's calendar-adjusted series. Each returns expected counts
per series × horizon; intervals are added by `intervals` the same way for every model."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from forecasting.seasonal_profile import family_factors
from forecasting.weekly_series import WeeklyPanel

SEASON = 52
SMOOTHING_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


class DemandModel(Protocol):
    name: str

    def predict(self, panel: WeeklyPanel, horizon: int) -> np.ndarray:
        """Fit on the whole panel; expected counts, series × horizon."""
        ...

    def notes(self, panel: WeeklyPanel) -> list[str]:
        """What the model had to give up on this panel (e.g. too short for a season)."""
        ...


class SeasonalNaive:
    """Next year's week = this year's same week. With under a year of history: the last week."""

    name = "seasonal_naive"

    def predict(self, panel: WeeklyPanel, horizon: int) -> np.ndarray:
        end = panel.n_weeks
        if end < SEASON:
            return np.repeat(panel.counts[:, -1:], horizon, axis=1)
        steps = np.arange(horizon)
        source = end + steps - SEASON * (1 + steps // SEASON)
        return panel.counts[:, source]

    def notes(self, panel: WeeklyPanel) -> list[str]:
        if panel.n_weeks < SEASON:
            return [f"seasonal_naive: only {panel.n_weeks} weeks (< {SEASON}); "
                    "fell back to the naive last-week forecast"]
        return []


class CalendarSmoothing:
    """ETS(A,N,N) per series on counts divided by the family's calendar profile, then the
    profile put back. The smoothing weight is chosen per series from a grid by one-step
    squared error; the profile (trend, annual cycle, holidays) is pooled over the family."""

    name = "ets"

    def predict(self, panel: WeeklyPanel, horizon: int) -> np.ndarray:
        factors, _ = family_factors(panel, horizon)
        adjusted = panel.counts / factors[:, :panel.n_weeks]
        level = smoothed_level(adjusted)
        return level[:, None] * factors[:, panel.n_weeks:]

    def notes(self, panel: WeeklyPanel) -> list[str]:
        return [f"ets: {note}" for note in family_factors(panel, 1)[1]]


def smoothed_level(series: np.ndarray, grid: tuple[float, ...] = SMOOTHING_GRID) -> np.ndarray:
    """Final simple-exponential-smoothing level of each row, with the row's best weight.

    Starts from the mean of the first eight weeks; scores one-step errors after a burn-in of
    eight weeks so the start value does not decide the weight.
    """
    burn_in = min(8, series.shape[1])
    start = series[:, :burn_in].mean(axis=1)
    best_error = np.full(series.shape[0], np.inf)
    best_level = start.copy()
    for alpha in grid:
        level, error = _smooth(series, start, alpha, burn_in)
        better = error < best_error
        best_error[better] = error[better]
        best_level[better] = level[better]
    return best_level


def smoothing_path(series: np.ndarray, alpha: float) -> np.ndarray:
    """One-step-ahead fitted values of simple exponential smoothing (for checking the method)."""
    level = series[:, :min(8, series.shape[1])].mean(axis=1)
    fitted = np.empty_like(series)
    for week in range(series.shape[1]):
        fitted[:, week] = level
        level = level + alpha * (series[:, week] - level)
    return fitted


def _smooth(series: np.ndarray, start: np.ndarray, alpha: float,
            burn_in: int) -> tuple[np.ndarray, np.ndarray]:
    level = start.copy()
    error = np.zeros(series.shape[0])
    for week in range(series.shape[1]):
        residual = series[:, week] - level
        if week >= burn_in:
            error += residual**2
        level = level + alpha * residual
    return level, error
