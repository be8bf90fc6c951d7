"""One gradient-boosted model across every family × area series: it predicts a target week's
count as a multiple of the series' recent level, from lags, the family and the target week's
calendar (bank holidays, Christmas, Easter, working days, place in the year).

Scaling by the recent level lets one model serve a series of 500 a week and one of 0.5; fitting
the ratio with Poisson loss weighted by the level is the same as Poisson loss on the counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from forecasting.calendar_features import CALENDAR_COLUMNS, calendar_features, future_weeks
from forecasting.weekly_series import WeeklyPanel

MIN_WEEKS = 14
LEVEL_FLOOR = 0.1
FEATURES = ("family", "horizon", *CALENDAR_COLUMNS, "ratio_4", "ratio_52", "ratio_last_year",
            "working_days_recent", "working_days_last_year", "log_level")


class GlobalBoosting:
    name = "boosting"

    def __init__(self, seed: int = 0, max_rows: int = 300_000, iterations: int = 150) -> None:
        self.seed = seed
        self.max_rows = max_rows
        self.iterations = iterations

    def predict(self, panel: WeeklyPanel, horizon: int) -> np.ndarray:
        if panel.n_weeks < MIN_WEEKS + 1:
            raise ValueError(f"boosting needs at least {MIN_WEEKS + 1} weeks of history")
        context = _Context.of(panel, horizon)
        series, origins, steps = self._training_rows(panel, horizon)
        features, level = context.features(series, origins, steps)
        target = panel.counts[series, origins + steps - 1]
        model = HistGradientBoostingRegressor(
            loss="poisson", max_iter=self.iterations, learning_rate=0.08, max_leaf_nodes=31,
            min_samples_leaf=100, l2_regularization=1.0, categorical_features=[0],
            early_stopping=False, random_state=self.seed)
        model.fit(features, target / level, sample_weight=level)
        s_all = np.repeat(np.arange(panel.n_series), horizon)
        h_all = np.tile(np.arange(1, horizon + 1), panel.n_series)
        o_all = np.full(len(s_all), panel.n_weeks)
        future, future_level = context.features(s_all, o_all, h_all)
        ratio = model.predict(future)
        return (ratio * future_level).reshape(panel.n_series, horizon)

    def notes(self, panel: WeeklyPanel) -> list[str]:
        if panel.n_weeks < 53:
            return ["boosting: under a year of history, so no same-week-last-year feature"]
        return []

    def _training_rows(self, panel: WeeklyPanel,
                       horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(series, origin, horizon) triples whose target week lies inside the history."""
        origins = np.arange(MIN_WEEKS - 1, panel.n_weeks)
        pairs = [(o, h) for o in origins for h in range(1, horizon + 1)
                 if o + h - 1 < panel.n_weeks]
        pair_origin = np.array([p[0] for p in pairs])
        pair_step = np.array([p[1] for p in pairs])
        total = len(pairs) * panel.n_series
        rng = np.random.default_rng(self.seed)
        pick = (rng.choice(total, self.max_rows, replace=False) if total > self.max_rows
                else np.arange(total))
        return pick % panel.n_series, pair_origin[pick // panel.n_series], pair_step[
            pick // panel.n_series]


class _Context:
    """Prefix sums and calendar for one panel, so any (series, origin, horizon) row's features
    are a few array lookups. Origin o means weeks [0, o) are known; the target is week o+h-1."""

    def __init__(self, panel: WeeklyPanel, calendar: pd.DataFrame) -> None:
        self.panel = panel
        self.cumulative = np.concatenate(
            [np.zeros((panel.n_series, 1)), panel.counts.cumsum(axis=1)], axis=1)
        self.calendar = calendar.to_numpy(float)
        working = calendar["working_days"].to_numpy(float)
        self.working_cumulative = np.concatenate([[0.0], working.cumsum()])
        self.family_code = pd.Categorical(panel.families).codes.astype(float)

    @classmethod
    def of(cls, panel: WeeklyPanel, horizon: int) -> _Context:
        weeks = panel.weeks.append(future_weeks(panel.weeks[-1], horizon))
        return cls(panel, calendar_features(weeks)[list(CALENDAR_COLUMNS)])

    def mean(self, series: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        start = np.clip(start, 0, None)
        width = np.maximum(end - start, 1)
        return (self.cumulative[series, end] - self.cumulative[series, start]) / width

    def features(self, series: np.ndarray, origins: np.ndarray,
                 steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        target = origins + steps - 1
        level = np.maximum(self.mean(series, origins - 13, origins), LEVEL_FLOOR)
        recent = self.mean(series, origins - 4, origins) / level
        year = np.where(origins >= 52, self.mean(series, origins - 52, origins) / level, np.nan)
        last_year_start = target - 53
        has_last_year = last_year_start >= 0
        last_year = np.where(
            has_last_year,
            self.mean(series, last_year_start, np.minimum(target - 50, origins)) / level, np.nan)
        start13 = np.clip(origins - 13, 0, None)
        working_recent = (self.working_cumulative[origins] - self.working_cumulative[start13]) / (
            np.maximum(origins - start13, 1))
        working_last_year = np.where(has_last_year, self.calendar[np.clip(target - 52, 0, None),
                                                                  0], np.nan)
        columns = [self.family_code[series], steps.astype(float), *self.calendar[target].T,
                   recent, year, last_year, working_recent, working_last_year, np.log(level)]
        return np.column_stack(columns), level
