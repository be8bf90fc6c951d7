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


class ModalitySharesSmoothing:
    """CalendarSmoothing taken top-down from each area's total of a modality (the family's
    prefix: CT of CT_CARDIAC). The calendar profile is fitted on the modality's network totals,
    the smoothed level on the area's modality total, and each family gets its share of that
    total over the last year.

    Why: with one year of history a small family's own month-of-year effects are mostly noise
    (CT cardiac's June came out 7 % low on the benchmark's seed 1), and those errors move the
    family mix within a modality, by which the diary builder spends scarce CT, MRI and
    sonographer hours. The modality totals give a steady profile and level; the year's shares
    keep the mix, as seasonal naive does (docs/planning-from-forecasts.md)."""

    name = "ets_shares"

    def predict(self, panel: WeeklyPanel, horizon: int) -> np.ndarray:
        by_modality = modality_panel(panel)
        factors, _ = family_factors(by_modality, horizon)
        adjusted = panel.counts / factors[:, :panel.n_weeks]
        level = top_down_level(adjusted, modality_area_groups(by_modality))
        return level[:, None] * factors[:, panel.n_weeks:]

    def notes(self, panel: WeeklyPanel) -> list[str]:
        return [f"ets_shares: {note}" for note in family_factors(modality_panel(panel), 1)[1]]


def modality_panel(panel: WeeklyPanel) -> WeeklyPanel:
    """The same series labelled by modality (the family's text before its first underscore)
    instead of family, so that a calendar profile is fitted on the modality's totals."""
    modality = np.array([family.split("_", 1)[0] for family in panel.families])
    return WeeklyPanel(modality, panel.areas, panel.weeks, panel.counts)


def modality_area_groups(panel: WeeklyPanel) -> np.ndarray:
    """Group number of each series of a `modality_panel`: one group per modality × area."""
    keys = np.char.add(np.char.add(panel.families.astype(str), "|"), panel.areas.astype(str))
    return np.unique(keys, return_inverse=True)[1]


def top_down_level(series: np.ndarray, groups: np.ndarray,
                   share_weeks: int = SEASON) -> np.ndarray:
    """Each row's level: its group's smoothed level × the row's share of the group's sum over
    the last `share_weeks` weeks. The rows of a group add up to the group's level; a group with
    nothing in those weeks gets level 0 for every row."""
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    totals = np.zeros((n_groups, series.shape[1]))
    np.add.at(totals, groups, series)
    group_level = smoothed_level(totals)
    recent = series[:, -share_weeks:].sum(axis=1)
    group_recent = np.bincount(groups, weights=recent, minlength=n_groups)[groups]
    share = np.divide(recent, group_recent, out=np.zeros_like(recent), where=group_recent > 0)
    return share * group_level[groups]


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
