"""Prediction intervals for any demand model, calibrated out of sample.

The model is refitted with its last `horizon` weeks held back; its errors on those weeks give
(1) the overdispersion k in Var = mu + k·mu² (Poisson noise plus a share of the level that the
model gets wrong) and (2) the pooled quantiles of the standardised error |y − mu| / sd, which
become the interval half-widths (a split-conformal interval). Counts cannot be negative, so lower
bounds are clipped at 0. Coverage is pooled: tiny series, whose counts are 0, 1 or 2, cannot be
covered at exactly 80 % each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.demand_models import DemandModel
from forecasting.weekly_series import WeeklyPanel

SD_FLOOR = 0.5
LEVELS = (0.8, 0.95)


@dataclass(frozen=True)
class IntervalScale:
    overdispersion: float
    half_width: dict[float, float]  # level -> multiple of the sd

    def sd(self, mean: np.ndarray) -> np.ndarray:
        mean = np.maximum(mean, 0.0)
        return np.sqrt(mean + self.overdispersion * mean**2 + SD_FLOOR**2)

    def bounds(self, mean: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        spread = self.half_width[level] * self.sd(mean)
        return np.maximum(mean - spread, 0.0), mean + spread


@dataclass(frozen=True)
class PanelForecast:
    """Expected counts and interval bounds, series × horizon, with the model's notes."""

    model: str
    mean: np.ndarray
    sd: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    scale: IntervalScale
    notes: tuple[str, ...]


def forecast_with_intervals(model: DemandModel, panel: WeeklyPanel,
                            horizon: int) -> PanelForecast:
    """Fit on the whole panel and attach intervals calibrated on a held-back final stretch."""
    scale = calibrate(model, panel, horizon)
    mean = np.maximum(model.predict(panel, horizon), 0.0)
    lower, upper = {}, {}
    for level in LEVELS:
        lower[level], upper[level] = scale.bounds(mean, level)
    return PanelForecast(model.name, mean, scale.sd(mean), lower, upper, scale,
                         tuple(model.notes(panel)))


def calibrate(model: DemandModel, panel: WeeklyPanel, horizon: int) -> IntervalScale:
    held = min(horizon, max(panel.n_weeks // 4, 1))
    mean = np.maximum(model.predict(panel.up_to(panel.n_weeks - held), held), 0.0)
    actual = panel.counts[:, panel.n_weeks - held:]
    return scale_from_errors(mean, actual)


def scale_from_errors(mean: np.ndarray, actual: np.ndarray) -> IntervalScale:
    excess = ((actual - mean) ** 2 - mean).sum()
    overdispersion = max(float(excess / max((mean**2).sum(), 1e-9)), 0.0)
    provisional = IntervalScale(overdispersion, {})
    score = np.abs(actual - mean) / provisional.sd(mean)
    half_width = {level: float(np.quantile(score, level)) for level in LEVELS}
    return IntervalScale(overdispersion, half_width)
