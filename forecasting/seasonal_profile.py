"""The calendar shape of each exam family's demand (annual cycle, bank holidays, Christmas,
Easter, trend), fitted once per family on the network-wide weekly totals. Pooling every area
makes the shape precise even where one area's series is a handful of requests a week."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar_features import MONTH_COLUMNS, calendar_features, future_weeks
from forecasting.weekly_series import WeeklyPanel

WEEKS_FOR_ANNUAL_CYCLE = 52
_HOLIDAY_TERMS = ["working_days", "christmas_days", "pre_christmas_days", "easter"]
_SEASON_TERMS = list(MONTH_COLUMNS[1:])  # January is the reference month


def family_factors(panel: WeeklyPanel, horizon: int) -> tuple[np.ndarray, list[str]]:
    """Multiplicative factor per series × (history weeks + horizon weeks), and notes.

    The factor is exp(trend + month of year + holidays) of the series' family, normalised to a
    mean of 1 over the history, so dividing a series by it leaves a flat level.
    With less than a year of history the annual cycle cannot be told from trend and is left out.
    """
    weeks = panel.weeks.append(future_weeks(panel.weeks[-1], horizon))
    design = _design(weeks, panel.n_weeks)
    notes = []
    if panel.n_weeks < WEEKS_FOR_ANNUAL_CYCLE:
        notes.append(f"only {panel.n_weeks} weeks of history: no annual cycle in the profile")
    factors = np.ones((panel.n_series, len(weeks)))
    for family in np.unique(panel.families):
        rows = panel.families == family
        totals = panel.counts[rows].sum(axis=0)
        factors[rows] = _family_curve(design, totals, panel.n_weeks)
    return factors, notes


def _design(weeks: pd.DatetimeIndex, n_history: int) -> pd.DataFrame:
    calendar = calendar_features(weeks)
    terms = _HOLIDAY_TERMS + (_SEASON_TERMS if n_history >= WEEKS_FOR_ANNUAL_CYCLE else [])
    design = calendar[terms].astype(float).reset_index(drop=True)
    design["trend"] = (np.arange(len(weeks)) - (n_history - 1)) / 52.0
    return design


def _family_curve(design: pd.DataFrame, totals: np.ndarray, n_history: int) -> np.ndarray:
    """exp(linear predictor without intercept); flat ones when the family is too sparse to fit."""
    history = design.iloc[:n_history]
    usable = [c for c in design.columns if history[c].std() > 0]
    if totals.sum() < 5 * len(usable) or not usable:
        return np.ones(len(design))
    # Heavy: loaded when a profile is fitted, not on import; the GLM's own modules, not
    # statsmodels.api (which loads every model and data set it has: 0.7 s of a diary build).
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.tools import add_constant

    model = GLM(totals, add_constant(history[usable], has_constant="add"), family=Poisson())
    try:
        fitted = model.fit()
    except (ValueError, np.linalg.LinAlgError):
        return np.ones(len(design))
    coefficients = fitted.params[usable].to_numpy()
    curve = np.exp(design[usable].to_numpy() @ coefficients)
    history_mean = curve[:n_history].mean() if n_history else 1.0
    return curve / history_mean
