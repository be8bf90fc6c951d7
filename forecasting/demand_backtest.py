"""Rolling-origin evaluation of the demand models: at each origin every model is refitted on the
weeks before it only and forecasts the next 1..horizon weeks; errors are pooled over origins,
series and horizons. The oracle (the generator's true expected demand) is scored the same way.

MASE = mean over series × origins × horizons of |error| / the series' in-sample seasonal-naive
MAE at that origin (series whose scale is 0 are skipped), i.e. the mean of per-series MASEs.
WAPE and bias are pooled ratios to total actual demand. `fit_seconds` is the mean time to fit
one model on every series at one origin, including the second fit that calibrates intervals."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from domain.history import History
from forecasting.accuracy import demand_summary, naive_scale, scaled_errors
from forecasting.demand import make_model
from forecasting.demand_models import DemandModel
from forecasting.intervals import PanelForecast, forecast_with_intervals
from forecasting.weekly_series import (
    HistoryTooShortError,
    WeeklyPanel,
    expected_panel,
    weekly_panel,
)

MIN_TRAINING_WEEKS = 26


@dataclass
class _Pooled:
    scaled: list[np.ndarray] = field(default_factory=list)
    forecast: list[np.ndarray] = field(default_factory=list)
    actual: list[np.ndarray] = field(default_factory=list)
    covered80: list[np.ndarray] = field(default_factory=list)
    covered95: list[np.ndarray] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        cat = np.concatenate
        result = demand_summary(cat([s.ravel() for s in self.scaled]),
                                cat([f.ravel() for f in self.forecast]),
                                cat([a.ravel() for a in self.actual]))
        if self.covered80:
            result["coverage80"] = float(cat([c.ravel() for c in self.covered80]).mean())
            result["coverage95"] = float(cat([c.ravel() for c in self.covered95]).mean())
        if self.seconds:
            result["fit_seconds"] = float(np.mean(self.seconds))
        return result


@dataclass(frozen=True)
class BacktestResult:
    origins: tuple[int, ...]
    horizon: int
    models: dict[str, dict]
    notes: tuple[str, ...]
    last_forecasts: dict[str, PanelForecast]  # forecast made at the last origin, for plots


def rolling_origins(n_weeks: int, horizon: int, count: int, step: int) -> list[int]:
    """The latest `count` origins `step` weeks apart whose horizon fits inside the history."""
    last = n_weeks - horizon
    origins = [last - step * k for k in range(count) if last - step * k >= MIN_TRAINING_WEEKS]
    if not origins:
        raise HistoryTooShortError(
            f"a backtest needs at least {MIN_TRAINING_WEEKS + horizon} whole weeks; "
            f"the history has {n_weeks}")
    return sorted(origins)


def backtest(panel: WeeklyPanel, models: Sequence[DemandModel], horizon: int = 12,
             origins: Sequence[int] | None = None, oracle: np.ndarray | None = None,
             progress: Callable[[str], None] | None = None) -> BacktestResult:
    """Refit every model at every origin and pool its errors; `oracle` is the true expected
    demand aligned to the panel (series × weeks), scored without intervals."""
    origins = list(origins or rolling_origins(panel.n_weeks, horizon, count=6, step=4))
    pooled = {model.name: _Pooled() for model in models}
    if oracle is not None:
        pooled["oracle"] = _Pooled()
    notes: set[str] = set()
    last: dict[str, PanelForecast] = {}
    for origin in origins:
        known = panel.up_to(origin)
        actual = panel.counts[:, origin:origin + horizon]
        scale = naive_scale(known.counts)
        for model in models:
            started = time.perf_counter()
            result = forecast_with_intervals(model, known, horizon)
            pooled[model.name].seconds.append(time.perf_counter() - started)
            _add(pooled[model.name], result.mean, actual, scale, result)
            notes.update(result.notes)
            last[model.name] = result
            if progress:
                progress(f"origin week {origin}: {model.name}")
        if oracle is not None:
            _add(pooled["oracle"], oracle[:, origin:origin + horizon], actual, scale, None)
    if min(origins) <= 52 + 4:
        notes.add("MASE scaled by the naive (lag 1) error: too little history for lag 52")
    return BacktestResult(tuple(origins), horizon,
                          {name: p.summary() for name, p in pooled.items()},
                          tuple(sorted(notes)), last)


def _add(pooled: _Pooled, forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray,
         result: PanelForecast | None) -> None:
    known = ~np.isnan(forecast)
    pooled.scaled.append(np.where(known, scaled_errors(np.nan_to_num(forecast), actual, scale),
                                  np.nan))
    pooled.forecast.append(forecast[known])
    pooled.actual.append(actual[known])
    if result is not None:
        pooled.covered80.append((actual >= result.lower[0.8]) & (actual <= result.upper[0.8]))
        pooled.covered95.append((actual >= result.lower[0.95]) & (actual <= result.upper[0.95]))



def backtest_history(history: History, model_names: Sequence[str], horizon: int = 12,
                     origin_count: int = 6, step: int = 4, seed: int = 0,
                     progress: Callable[[str], None] | None = None,
                     ) -> tuple[WeeklyPanel, BacktestResult]:
    """Backtest named models on a history's requests; scores the oracle when it has truth."""
    panel = weekly_panel(history.requests)
    origins = rolling_origins(panel.n_weeks, horizon, origin_count, step)
    oracle = None
    if history.truth is not None:
        oracle = expected_panel(history.truth.expected_demand, panel)
    models = [make_model(name, seed) for name in model_names]
    return panel, backtest(panel, models, horizon, origins, oracle, progress)
