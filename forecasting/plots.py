"""PNG figures of the backtests: forecast against actual with its intervals, the calibration
curve and the lift (gain) curve of the DNA models. Uses matplotlib's Agg backend (no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from forecasting.intervals import PanelForecast
from forecasting.weekly_series import WeeklyPanel

HISTORY_SHOWN = 52
CALIBRATION_BINS = 10


def plot_forecast(panel: WeeklyPanel, origin: int, forecast: PanelForecast, path: Path,
                  series_shown: int = 4) -> Path:
    """The largest series: a year of history, then forecast, 80 %/95 % bands and what happened."""
    largest = np.argsort(-panel.counts.sum(axis=1))[:series_shown]
    horizon = forecast.mean.shape[1]
    figure, axes = plt.subplots(len(largest), 1, figsize=(9, 2.6 * len(largest)), squeeze=False)
    for axis, series in zip(axes[:, 0], largest, strict=True):
        start = max(origin - HISTORY_SHOWN, 0)
        end = min(origin + horizon, panel.n_weeks)
        axis.plot(panel.weeks[start:end], panel.counts[series, start:end], color="black",
                  linewidth=1, label="actual")
        ahead = panel.weeks[origin:origin + horizon]
        steps = len(ahead)
        axis.fill_between(ahead, forecast.lower[0.95][series, :steps],
                          forecast.upper[0.95][series, :steps], alpha=0.2, label="95 %")
        axis.fill_between(ahead, forecast.lower[0.8][series, :steps],
                          forecast.upper[0.8][series, :steps], alpha=0.35, label="80 %")
        axis.plot(ahead, forecast.mean[series, :steps], color="tab:blue", label=forecast.model)
        axis.axvline(panel.weeks[origin], color="grey", linestyle=":")
        axis.set_title(f"{panel.families[series]} · {panel.areas[series]}", fontsize=9)
        axis.set_ylabel("requests / week")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    return _save(figure, path)


def plot_calibration(outcome: np.ndarray, probabilities: dict[str, np.ndarray],
                     path: Path) -> Path:
    """Observed DNA rate against mean predicted risk in deciles of predicted risk."""
    figure, axis = plt.subplots(figsize=(5.5, 5))
    top = max(float(np.quantile(p, 0.995)) for p in probabilities.values())
    axis.plot([0, top], [0, top], color="grey", linestyle=":", label="perfect")
    for name, probability in probabilities.items():
        edges = np.unique(np.quantile(probability, np.linspace(0, 1, CALIBRATION_BINS + 1)))
        bins = np.clip(np.searchsorted(edges, probability, side="right") - 1, 0,
                       len(edges) - 2)
        counts = np.bincount(bins, minlength=len(edges) - 1)
        keep = counts > 0
        predicted = np.bincount(bins, probability)[keep] / counts[keep]
        observed = np.bincount(bins, outcome)[keep] / counts[keep]
        axis.plot(predicted, observed, marker="o", label=name)
    axis.set_xlabel("mean predicted DNA risk")
    axis.set_ylabel("observed DNA rate")
    axis.legend(fontsize=8, loc="upper left")
    return _save(figure, path)


def plot_lift(outcome: np.ndarray, probabilities: dict[str, np.ndarray], path: Path) -> Path:
    """Share of all DNAs caught against the share of appointments flagged, riskiest first."""
    figure, axis = plt.subplots(figsize=(5.5, 5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    for name, probability in probabilities.items():
        order = np.argsort(-probability, kind="stable")
        caught = np.concatenate([[0], np.cumsum(outcome[order])]) / max(outcome.sum(), 1)
        flagged = np.linspace(0, 1, len(caught))
        axis.plot(flagged, caught, label=name)
    axis.axvline(0.1, color="grey", linewidth=0.8)
    axis.set_xlabel("share of appointments flagged (riskiest first)")
    axis.set_ylabel("share of DNAs caught")
    axis.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
